"""The README's sessions run as written and print what the README shows.

Every ```console block of README.md is a session: `$ ` lines are commands (continued while a line ends in `\\` or a
quote is open), the other lines are what they print on stdout, where `...` stands for any text. The first block
starts the server with `scripts/serve`, as a new user does; the test starts it the same way on a free port and
compares its start-up lines. The other blocks run in order in one bash, in a fresh folder that has the repository's
`.venv`, with two substitutions a reader makes too: the server's port for 8000, and the admin token the server
printed for `rvw_...`.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port, stop_process, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```console\n(.*?)^```$", re.S | re.M)
MARK = "\x1eREADME-STEP"


@dataclass
class Step:
    """One command of a session and the stdout the README shows for it."""

    command: str
    expected: str
    line: int  # where the command is in README.md


def _complete(command: str) -> bool:
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command, comments=True)
    except ValueError:  # an open quote: the command goes on on the next line
        return False
    return True


def sessions(text: str) -> list[list[Step]]:
    """The README's console blocks, each as its steps."""
    blocks = []
    for match in BLOCK.finditer(text):
        first_line = text.count("\n", 0, match.start(1)) + 1
        steps: list[Step] = []
        pending: list[str] | None = None
        for offset, line in enumerate(match.group(1).splitlines()):
            if pending is not None:
                pending.append(line)
            elif line.startswith("$ "):
                pending = [line[2:]]
                steps.append(Step("", "", first_line + offset))
            else:
                assert steps, f"README.md:{first_line + offset}: output before any command"
                steps[-1].expected += line + "\n"
                continue
            if _complete("\n".join(pending)):
                steps[-1].command = "\n".join(pending)
                pending = None
        assert pending is None, f"README.md:{first_line}: a command never ends"
        blocks.append(steps)
    return blocks


def matches(expected: str, actual: str) -> bool:
    """Whether `actual` is `expected` with each `...` standing for any text (trailing blanks ignored)."""
    expected, actual = _tidy(expected), _tidy(actual)
    pattern = ".*?".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual, re.S) is not None


def _tidy(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def _local(text: str, port: int) -> str:
    return text.replace("localhost:8000", f"127.0.0.1:{port}").replace("127.0.0.1:8000", f"127.0.0.1:{port}")


@dataclass
class Server:
    """`scripts/serve` as the README's first session starts it."""

    port: int
    stdout: Path


@pytest.fixture(scope="module")
def blocks() -> list[list[Step]]:
    found = sessions(README.read_text(encoding="utf-8"))
    assert len(found) >= 3, "README.md should have its console sessions"
    assert [s.command for s in found[0]] == ["scripts/serve"], "the first session starts the server"
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh `scripts/serve` on a free port, without REVIEWS_ADMIN_TOKEN, on an empty data directory (a fresh
    clone's ./data), as on a fresh clone."""
    if not (ROOT / ".venv" / "bin" / "reviews").exists():
        pytest.fail("the README runs .venv/bin/reviews: run scripts/setup first")
    folder = tmp_path_factory.mktemp("readme-server")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URL", "REVIEWS_ADMIN_TOKEN")}
    env["REVIEWS_DATA_DIR"] = str(folder / "data")
    with (folder / "stdout").open("w") as out, (folder / "stderr").open("w") as err:
        proc = subprocess.Popen(
            [str(ROOT / "scripts" / "serve"), "--port", str(port), "--log-level", "warning"],
            stdout=out,
            stderr=err,
            env=env,
        )
        try:
            wait_until_up(proc, f"http://127.0.0.1:{port}/health", 120, "scripts/serve", lambda: _logs(folder))
            yield Server(port, folder / "stdout")
        finally:
            stop_process(proc)


def _logs(folder: Path) -> str:
    return (folder / "stdout").read_text() + (folder / "stderr").read_text()


def test_serve_prints_what_the_readme_shows(blocks: list[list[Step]], server: Server) -> None:
    [start] = blocks[0]
    printed = server.stdout.read_text()
    assert matches(_local(start.expected, server.port), printed), (
        f"README.md:{start.line}: `scripts/serve` printed\n{printed}\nbut the README shows\n{start.expected}"
    )


def test_sessions_print_what_the_readme_shows(blocks: list[list[Step]], server: Server, tmp_path: Path) -> None:
    token = re.search(r"^admin token: (rvw_\S+)$", server.stdout.read_text(), re.M)
    assert token, "scripts/serve printed no admin token"
    steps = [step for block in blocks[1:] for step in block]
    script = []
    for n, step in enumerate(steps):
        command = _local(step.command, server.port).replace("rvw_...", token.group(1))
        script.append(f"{{\n{command}\n}} 2>{n}.stderr\nprintf '\\n{MARK} %s %s\\n' {n} $?")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URL", "REVIEWS_ADMIN_TOKEN")}
    run = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    outputs = re.split(rf"\n{MARK} (\d+) (\d+)\n", "\n" + run.stdout)
    results = {int(n): (int(rc), out) for out, n, rc in zip(outputs[:-1:3], outputs[1::3], outputs[2::3], strict=True)}
    problems = []
    for n, step in enumerate(steps):
        if n not in results:
            problems.append(f"README.md:{step.line}: `{step.command}` did not run (bash: {run.stderr[-500:]})")
            continue
        rc, out = results[n]
        expected = _local(step.expected, server.port)
        if rc != 0 or not matches(expected, out):
            err = (tmp_path / f"{n}.stderr").read_text()[-800:]
            problems.append(
                f"README.md:{step.line}: `{step.command}` exited {rc} and printed\n{out}\n"
                f"but the README shows\n{expected}\n(stderr: {err})"
            )
    assert not problems, "\n\n".join(problems)
