"""Fake platform servers (real HTTP on 127.0.0.1) for the tests, the benchmark and trying the collectors out."""

from __future__ import annotations

import time
from collections.abc import Callable


def serve_until_interrupted(settings_line: str, stop: Callable[[], None]) -> None:
    """Print the settings that point a collector at a running fake, then keep it up until Ctrl-C."""
    print(settings_line, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stop()
