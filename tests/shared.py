"""What the tests read from KFSTACK_SHARED, where a run finds it, and what to say when it cannot.

The list is tests/shared.toml; tests/conftest.py (at session start) and scripts/fetch-shared
(before fetching) both read it through this module, which uses the standard library only so
that the script runs before any `uv sync`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

REPO = Path(__file__).resolve().parents[1]
TABLE = Path(__file__).with_name("shared.toml")
FETCH = "scripts/fetch-shared"


@dataclass(frozen=True, kw_only=True)
class _Entry:
    """A row of tests/shared.toml: where it sits under KFSTACK_SHARED, where it comes from.

    Each kind of row says its layout once, as templates of its own fields: `FOLDER` (fetched
    and replaced as a whole), `PATH` (what the tests read), `MARKER` (the file whose presence
    says the row is there) and `ORIGIN` (for a person).
    """

    FOLDER: ClassVar[str]
    PATH: ClassVar[str]
    MARKER: ClassVar[str]
    ORIGIN: ClassVar[str]

    repo: str
    commit: str

    @property
    def folder(self) -> str:
        """Its folder under KFSTACK_SHARED."""
        return self.FOLDER.format(self=self)

    @property
    def path(self) -> str:
        """What the tests read, under KFSTACK_SHARED."""
        return self.PATH.format(self=self)

    @property
    def marker(self) -> str:
        """The file whose presence says it is there."""
        return self.MARKER.format(self=self)

    @property
    def markers(self) -> tuple[str, ...]:
        """Every file it must hold: its marker, and for a release its own contract."""
        contract = getattr(self, "CONTRACT", None)
        return (self.marker,) if contract is None else (self.marker, contract.format(self=self))

    def describe(self) -> str:
        """One line for a person: what it is and where it comes from."""
        return self.ORIGIN.format(self=self, repo=self.repo.removeprefix("https://github.com/"))


@dataclass(frozen=True, kw_only=True)
class KubeflowCopy(_Entry):
    """A Kubeflow release the tests read: kubeflow/manifests at a tag, with its remote bases."""

    FOLDER = "kubeflow/{self.release}"
    PATH = "{self.folder}/manifests"  # what `kubeflow.source.path` names
    MARKER = "{self.path}/example/kustomization.yaml"
    # The release's own profile controller, read as the contract (tests/profile_controller.py).
    CONTROLLER = (
        "applications/pipeline/upstream/base/installs/multi-user/pipelines-profile-controller"
    )
    CONTRACT = "{self.folder}/release-tests/" + CONTROLLER + "/sync.py"
    ORIGIN = "{repo} tag {self.tag} and the remote bases it references"

    release: str
    tag: str


@dataclass(frozen=True, kw_only=True)
class RegistryApi(_Entry):
    """The Model Registry OpenAPI file the registry double follows (`file` of `repo`)."""

    FOLDER = "model-registry/{self.version}"
    PATH = "{self.folder}/model-registry.openapi.yaml"
    MARKER = "{self.path}"
    ORIGIN = "{repo} {self.file} at tag {self.version}"

    version: str
    file: str


Piece = KubeflowCopy | RegistryApi


@dataclass(frozen=True)
class Needs:
    """Everything the tests read from KFSTACK_SHARED."""

    kubeflow: tuple[KubeflowCopy, ...]
    model_registry: RegistryApi

    @property
    def pieces(self) -> tuple[Piece, ...]:
        """Each piece, fetched and checked as a whole."""
        return (*self.kubeflow, self.model_registry)


def load(table: Path = TABLE) -> Needs:
    """Read the table of what the tests need (tests/shared.toml)."""
    data = tomllib.loads(table.read_text(encoding="utf-8"))
    return Needs(
        kubeflow=tuple(KubeflowCopy(**entry) for entry in data["kubeflow"]),
        model_registry=RegistryApi(**data["model_registry"]),
    )


NEEDS = load()


def missing(root: Path, needs: Needs = NEEDS) -> tuple[Piece, ...]:
    """The pieces `root` does not hold."""
    return tuple(
        piece
        for piece in needs.pieces
        if not all((root / marker).is_file() for marker in piece.markers)
    )


def cache_dir(env: Mapping[str, str]) -> Path:
    """Where scripts/fetch-shared puts what it fetches (the same layout as ../shared)."""
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kfstack" / "shared"


def locate(env: Mapping[str, str] = os.environ, needs: Needs = NEEDS) -> Path:
    """The folder the tests read: KFSTACK_SHARED when set, else ../shared or the fetch cache.

    Without KFSTACK_SHARED, the cache is used only when it is complete and ../shared is not,
    so a checkout beside ../shared never reads a stale cache.
    """
    given = env.get("KFSTACK_SHARED")
    if given:
        return Path(given)
    default, cache = REPO.parent / "shared", cache_dir(env)
    if missing(default, needs) and not missing(cache, needs):
        return cache
    return default


def message(root: Path, lacking: tuple[Piece, ...]) -> str:
    """What a test run needs that `root` lacks, and the commands that get it."""
    lines = [
        f"The tests read release data from KFSTACK_SHARED={root} (default ../shared, laid out",
        f"as tests/shared.toml says); it lacks {len(lacking)} of them:",
        *(f"  - {root / piece.path}  ({piece.describe()})" for piece in lacking),
        f"Fetch them once (git and HTTPS to github.com) with {FETCH}: it prints the folder",
        "that holds them (a cache, which the tests also find when KFSTACK_SHARED is unset):",
        f'  export KFSTACK_SHARED="$({FETCH})"',
        "  make test",
    ]
    return "\n".join(lines)
