"""The releases kfstack plans, read once from the data files in `tables/`.

`tables/releases.toml` holds each release fact its files do not (Kubernetes versions, the
git tag, the fingerprint that detects it in a source, the assumptions made where a fact is
not read from a local copy); `tables/kubeflow-<release>.toml` what a release's files
cannot say of its components. What the files say (the object store, the default
credentials) is read from them. A new release is a row there, not code here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from infra.kubeflow.catalogue.component import KubeflowRelease
from infra.kubeflow.catalogue.load import load_releases
from infra.kubeflow.errors import CatalogueError

RELEASES: tuple[KubeflowRelease, ...] = load_releases()
RELEASE_NAMES: tuple[str, ...] = tuple(r.name for r in RELEASES)
SUPPORTED_KUBERNETES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {r.name: r.kubernetes for r in RELEASES}
)

#: The job kind of kfstack's training step -> the release component that serves it.
TRAINING_COMPONENTS: Mapping[str, str] = MappingProxyType(
    {"trainjob": "trainer", "tfjob": "training-operator"}
)
#: Release -> the training components its table has (the Trainer in 26.03, the Training
#: Operator in v1.10).
TRAINING_RELEASES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        r.name: tuple(c.name for c in r.components if c.name in TRAINING_COMPONENTS.values())
        for r in RELEASES
    }
)


def find_kubeflow_release(name: str) -> KubeflowRelease:
    """Return the release `name` (`v1.10.2` and `1.10.2` both name v1.10.2).

    Raises:
        CatalogueError: naming the known releases.

    """
    for candidate in RELEASES:
        if name in (candidate.name, candidate.name.removeprefix("v")):
            return candidate
    raise CatalogueError(
        f"kubeflow.release: unknown release {name!r}",
        hint=f"known releases: {', '.join(RELEASE_NAMES)}",
    )
