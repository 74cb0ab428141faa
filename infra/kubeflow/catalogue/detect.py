"""Which release a source holds: the component versions its README lists.

Every kubeflow/manifests README has a table `| Component | Local Manifests Path |
Upstream Revision | ...`; a release of the table is detected when every component of
its fingerprint has that version. Paths may move between releases; versions do not lie.
"""

from __future__ import annotations

import re
from pathlib import Path

from infra.kubeflow.catalogue.component import KubeflowRelease
from infra.kubeflow.catalogue.releases import RELEASE_NAMES, RELEASES
from infra.kubeflow.errors import CatalogueError
from infra.kubeflow.objects import Finding

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


def detect_release(root: Path) -> KubeflowRelease | None:
    """Return the release of the table whose fingerprint the source at `root` shows."""
    versions = readme_versions(root)
    for candidate in RELEASES:
        fingerprint = candidate.fingerprint
        if fingerprint and all(versions.get(k) == v for k, v in fingerprint.items()):
            return candidate
    return None


def resolve_release(
    configured: KubeflowRelease | None, root: Path
) -> tuple[KubeflowRelease, tuple[Finding, ...]]:
    """Return the release the source at `root` holds, checked against `configured`.

    `configured` is the release the stack names, already looked up (None: plan whatever
    release the source holds). The result is one of the table's releases, never looked
    up again.

    Raises:
        CatalogueError: the source holds another release than the configured one, or
            its release cannot be detected and none is configured.

    """
    detected = detect_release(root)
    if configured is None:
        if detected is None:
            raise CatalogueError(
                f"cannot tell which Kubeflow release {root} holds "
                "(its README lists no component versions of a known release)",
                hint=f"set kubeflow.release (known: {', '.join(RELEASE_NAMES)})",
            )
        return detected, ()
    wanted = configured
    if detected is None:
        note = Finding(
            "release.undetected",
            "warning",
            None,
            f"the source at {root} does not show which release it holds; "
            f"planned as the configured {wanted.name}",
        )
        return wanted, (note,)
    if detected.name != wanted.name:
        raise CatalogueError(
            f"kubeflow.release is {wanted.name!r} but the source at {root} holds "
            f"Kubeflow {detected.name}",
            hint="set kubeflow.release to the source's release, or point the source at "
            f"{wanted.name} (tag {wanted.git_tag})",
        )
    return detected, ()
