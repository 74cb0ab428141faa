"""Which release a source holds: the component versions its README lists.

Every kubeflow/manifests README has a table `| Component | Local Manifests Path |
Upstream Revision | ...`; a release of the table is detected when every component of
its fingerprint has that version. Paths may move between releases; versions do not lie.
"""

from __future__ import annotations

import re
from pathlib import Path

from infra.kubeflow.catalogue.component import Release
from infra.kubeflow.catalogue.releases import RELEASES

_ROW = re.compile(r"^\|\s*([^|]+?)\s*\|\s*[^|]*\|\s*\[([^\]]+)\]")


def readme_versions(root: Path) -> dict[str, str]:
    """Return component -> version from the README's component table (empty if none)."""
    try:
        text = (root / "README.md").read_text(errors="replace")
    except OSError:
        return {}
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _ROW.match(line)
        if match:
            found.setdefault(match.group(1), match.group(2))
    return found


def detect_release(root: Path) -> Release | None:
    """Return the release of the table whose fingerprint the source at `root` shows."""
    versions = readme_versions(root)
    for candidate in RELEASES:
        fingerprint = candidate.fingerprint
        if fingerprint and all(versions.get(k) == v for k, v in fingerprint.items()):
            return candidate
    return None
