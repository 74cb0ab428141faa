"""What a piece of code imports, seen from a fresh interpreter (for "stays light" tests)."""

from __future__ import annotations

import json
import subprocess
import sys


def loaded_by(code: str, roots: set[str]) -> list[str]:
    """Return the modules under `roots` (top-level names) loaded after running `code`."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    return [m for m in modules if m.split(".")[0] in roots]
