"""`python -m tests.scheduler_process ARGS`: the real `reviews ARGS` with the tests' counting collector registered.

The scheduler's tests run `reviews scheduler` and `reviews collect` as real processes through this entry point;
the production registry (collectors.registry) never sees the test collector.
"""

from __future__ import annotations

import sys

from reviews_service.cli import main
from tests.counting_collector import REGISTRY

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], registry=REGISTRY))
