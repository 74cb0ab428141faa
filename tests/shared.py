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

REPO = Path(__file__).resolve().parents[1]
TABLE = Path(__file__).with_name("shared.toml")
FETCH = "scripts/fetch-shared"


@dataclass(frozen=True)
class KubeflowCopy:
    """A Kubeflow release the tests read: kubeflow/manifests at a tag, with its remote bases."""

    release: str
    repo: str
    tag: str
    commit: str

    @property
    def folder(self) -> str:
        """Its folder under KFSTACK_SHARED."""
        return f"kubeflow/{self.release}"

    @property
    def path(self) -> str:
        """Its manifests root under KFSTACK_SHARED (what `kubeflow.source.path` names)."""
        return f"{self.folder}/manifests"

    @property
    def marker(self) -> str:
        """The file whose presence says the copy is there."""
        return f"{self.path}/example/kustomization.yaml"

    def describe(self) -> str:
        """One line for a person: what it is and where it comes from."""
        return f"{_short(self.repo)} tag {self.tag} and the remote bases it references"


@dataclass(frozen=True)
class RegistryApi:
    """The Model Registry OpenAPI file the registry double follows."""

    version: str
    repo: str
    commit: str
    file: str

    @property
    def folder(self) -> str:
        """Its folder under KFSTACK_SHARED."""
        return f"model-registry/{self.version}"

    @property
    def path(self) -> str:
        """The file under KFSTACK_SHARED."""
        return f"{self.folder}/model-registry.openapi.yaml"

    @property
    def marker(self) -> str:
        """The file whose presence says the copy is there: the file itself."""
        return self.path

    def describe(self) -> str:
        """One line for a person: what it is and where it comes from."""
        return f"{_short(self.repo)} {self.file} at tag {self.version}"


Piece = KubeflowCopy | RegistryApi


def _short(repo: str) -> str:
    return repo.removeprefix("https://github.com/")


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
    return tuple(piece for piece in needs.pieces if not (root / piece.marker).is_file())


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
