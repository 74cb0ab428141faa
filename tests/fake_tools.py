"""Run a cluster kind's bash create step against fake executables (kind, docker, minikube).

Each fake is a bash script that appends its command line to `$LOG`; the step's calls come
back in order, with the finished process.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

Run = tuple[subprocess.CompletedProcess[str], list[str]]


def run_with_fake_tools(
    script: str, tools: Mapping[str, str], workdir: Path, env: Mapping[str, str]
) -> Run:
    """Run `script` under bash with `tools` (name -> body) first on PATH.

    Returns:
        The finished process and the fakes' logged calls, in order.

    """
    bin_dir = workdir / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in tools.items():
        tool = bin_dir / name
        tool.write_text(body)
        tool.chmod(0o755)
    log = workdir / "log"
    log.write_text("")
    environment = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "LOG": str(log), **env}
    done = subprocess.run(
        ["/bin/bash", "-c", script], env=environment, capture_output=True, text=True, check=False
    )
    return done, log.read_text().splitlines()
