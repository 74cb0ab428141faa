"""The release's own component list: the resources of `example/kustomization.yaml`."""

from __future__ import annotations

import posixpath
from pathlib import Path

import yaml

from infra.kubeflow.errors import SourceError

EXAMPLE = Path("example") / "kustomization.yaml"


def example_entries(root: Path) -> tuple[str, ...]:
    """Return the example's resources, in order, as paths relative to the manifests root.

    Raises:
        SourceError: the file is missing, is not YAML, or has no `resources` list.

    """
    path = root / EXAMPLE
    try:
        body = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SourceError(f"{path}: cannot read the release's example: {exc}") from None
    resources = body.get("resources") if isinstance(body, dict) else None
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        raise SourceError(f"{path}: `resources` is not a list of paths")
    return tuple(normalise(str(r)) for r in resources)


def normalise(entry: str) -> str:
    """Return an example entry (`../common/dex/base/`) relative to the root (`common/dex/base`)."""
    return posixpath.normpath(posixpath.join("example", entry.strip()))
