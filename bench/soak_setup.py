"""The soak's processes apart from `reviews serve`: the compose nginx in front of it, and its memory as /proc says."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from bench.widgets import HOST, NGINX_CONF, Processes, SetupError, free_port, local_reviews_conf, nginx_main_conf


def rss_kb(root: int) -> int:
    """VmRSS of process `root` and all its descendants, in kB (0 for processes gone meanwhile)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    family, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in family} - family
        family |= more
        grew = bool(more)
    total = 0
    for pid in family:
        try:
            match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
        except OSError:
            continue
        total += int(match.group(1)) if match else 0
    return total


def start_nginx(nginx: str, workdir: Path, upstream_port: int, processes: Processes) -> str:
    """nginx with deploy/nginx/reviews.conf in front of `upstream_port`, as compose runs it; its base URL."""
    port = free_port()
    conf = workdir / "reviews.conf"
    conf.write_text(local_reviews_conf(NGINX_CONF.read_text(encoding="utf-8"), f"{HOST}:{upstream_port}",
                                       workdir / "cache", f"{HOST}:{port}"), encoding="utf-8")  # fmt: skip
    main_conf = workdir / "nginx.conf"
    text = nginx_main_conf(workdir, free_port(), conf).replace("worker_processes 1;", "worker_processes auto;")
    main_conf.write_text(text, encoding="utf-8")
    argv = [nginx, "-p", f"{workdir}/", "-e", str(workdir / "nginx-error.log"), "-c", str(main_conf)]
    checked = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=30)
    if checked.returncode != 0:
        raise SetupError(f"nginx -t refused the configuration:\n{checked.stdout}{checked.stderr}")
    processes.start("nginx", argv)
    return f"http://{HOST}:{port}"
