"""Where the release's manifests come from: a local folder or a pinned git ref, and its digest.

A local source is read in place (never written). A git source is cloned once per
(url, ref) into the user cache dir, so the same stack always renders the same files.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from infra.config_inputs import check_git_ref
from infra.kubeflow.errors import SourceError
from infra.kubeflow.render.entries import cache_key, read_entry, write_entry
from infra.kubeflow.settings import ManifestSource

# A folder is a manifests root when it holds the release's example kustomization.
_LAYOUT_MARKER = Path("example") / "kustomization.yaml"
_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
_COMPLETE = ".kfstack-complete"


@dataclass(frozen=True)
class Source:
    """The manifests a plan is made of: their root folder and the digest of their content."""

    root: Path
    digest: str


def open_source(source: ManifestSource, *, cache_dir: Path, use_cache: bool = True) -> Source:
    """Return the manifests root of `source` (fetched when a git ref) and its digest.

    Raises:
        SourceError: as `resolve_source`.

    """
    root = resolve_source(source, cache_dir=cache_dir)
    return Source(root, source_digest(root, cache_dir=cache_dir if use_cache else None))


def resolve_source(source: ManifestSource, *, cache_dir: Path) -> Path:
    """Return the manifests root (the folder holding `applications/`, `common/`, `example/`).

    Args:
        source: a local path, or a git URL with a pinned tag or commit.
        cache_dir: where git sources are cloned (`<cache_dir>/sources/...`).

    Raises:
        SourceError: the source is not set, is ambiguous, is missing or has the wrong layout,
            or the clone failed.

    """
    if (source.path is None) == (source.git_url is None):
        raise SourceError(
            "kubeflow.source: set exactly one of `path` and `git_url`",
            hint="e.g. kubeflow.source.path: ../shared/kubeflow/26.03/manifests",
        )
    if source.path is not None:
        return manifests_root(Path(source.path), config_key="kubeflow.source.path")
    assert source.git_url is not None
    if not source.git_ref:
        raise SourceError(
            "kubeflow.source.git_ref: a git source needs a pinned tag or commit",
            hint=f"git_url is {source.git_url}",
        )
    checkout = fetch_git(source.git_url, source.git_ref, cache_dir=cache_dir)
    return manifests_root(checkout, config_key="kubeflow.source.git_url")


def manifests_root(path: Path, *, config_key: str) -> Path:
    """Return the manifests root at `path` or at `path/manifests`.

    Raises:
        SourceError: naming the path and `config_key` when neither has the release layout.

    """
    path = path.expanduser().resolve()
    if not path.exists():
        raise SourceError(
            f"{config_key}: manifests path {path} does not exist",
            hint="point it at a checkout of kubeflow/manifests (the folder holding example/)",
        )
    for candidate in (path, path / "manifests"):
        if (candidate / _LAYOUT_MARKER).is_file():
            return candidate
    raise SourceError(
        f"{config_key}: {path} does not hold the Kubeflow manifests layout "
        f"(no {_LAYOUT_MARKER} in it or in {path / 'manifests'})",
        hint="point it at a checkout of kubeflow/manifests (the folder holding example/)",
    )


def refuse_option(url: str) -> None:
    """Refuse a URL git could read as an option.

    Stack config accepts only https/ssh URLs (infra/config_inputs.py); below it, git is
    given the URL after `--` and only plain transports (`_git`), and this refuses a
    leading '-' outright.

    Raises:
        ValueError: the URL starts with '-'.

    """
    if url.startswith("-"):
        raise ValueError(f"git URL {url!r} starts with '-'")


def fetch_git(url: str, ref: str, *, cache_dir: Path) -> Path:
    """Return a checkout of `url` at `ref` (a tag, a branch or a 40-hex commit), cached.

    The checkout is made in a temporary folder and renamed into place, so a failed or
    interrupted clone never leaves a half checkout behind.
    """
    try:
        refuse_option(url)
        check_git_ref(ref)
    except ValueError as exc:
        raise SourceError(f"kubeflow.source.git: {exc}", hint="fix the stack file") from None
    slug = hashlib.sha256(f"{url}\0{ref}".encode()).hexdigest()[:20]
    target = cache_dir / "sources" / slug
    if (target / _COMPLETE).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{slug}.", dir=target.parent))
    try:
        if _COMMIT_RE.match(ref):
            _git(["init", "--quiet", str(work)], url)
            _git(["-C", str(work), "fetch", "--quiet", "--depth", "1", "--", url, ref], url)
            _git(["-C", str(work), "checkout", "--quiet", "FETCH_HEAD"], url)
        else:
            _git(["clone", "--quiet", "--depth", "1", "--branch", ref, "--", url, str(work)], url)
        (work / _COMPLETE).write_text(f"{url} {ref}\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return target


def _git(args: list[str], url: str) -> None:
    # No ext::/fd:: remote helpers (they run commands), also not for submodules.
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ALLOW_PROTOCOL": "https:ssh:file"}
    try:
        result = subprocess.run(
            ["git", *args], capture_output=True, text=True, env=env, check=False
        )
    except FileNotFoundError:
        raise SourceError(
            "kubeflow.source.git_url: git is not installed", hint="install git"
        ) from None
    if result.returncode != 0:
        raise SourceError(
            f"kubeflow.source.git_url: git {args[0] if args[0] != '-C' else args[2]} "
            f"of {url} failed: {result.stderr.strip()}",
            hint="check kubeflow.source.git_url and kubeflow.source.git_ref",
        )


def source_digest(root: Path, *, cache_dir: Path | None = None) -> str:
    """Return a content digest of the manifests at `root` and the sibling `upstream/` folder.

    The whole tree is hashed (paths and bytes, `.git` skipped), which is simpler and
    safer than following every kustomization's references. With `cache_dir`, each file's
    hash is kept with its size and modification time (`<cache_dir>/digests/`), and only
    files whose size or time changed are read again, so a warm plan only stats the tree.
    """
    files = [
        (os.path.relpath(file, root), file)
        for base in (root, root.parent / "upstream")
        if base.is_dir()
        for file in _files(base)
    ]
    memo_file = None
    memo_key = cache_key("digest", str(root.resolve()))
    memo: dict[str, list[object]] = {}
    if cache_dir is not None:
        memo_file = cache_dir / "digests" / f"{memo_key}.json"
        loaded = read_entry(memo_file, memo_key)
        memo = loaded if isinstance(loaded, dict) else {}
    digest = hashlib.blake2b(digest_size=20)
    fresh: dict[str, list[object]] = {}
    for relative, file in files:
        stat = file.stat()
        known = memo.get(relative)
        if isinstance(known, list) and known[:2] == [stat.st_size, stat.st_mtime_ns]:
            fresh[relative] = known
        else:
            content = hashlib.blake2b(file.read_bytes(), digest_size=20).hexdigest()
            fresh[relative] = [stat.st_size, stat.st_mtime_ns, content]
        digest.update(relative.encode() + b"\0" + str(fresh[relative][2]).encode())
    if memo_file is not None and fresh != memo:
        write_entry(memo_file, memo_key, fresh)
    return digest.hexdigest()


def _files(base: Path) -> list[Path]:
    found: list[Path] = []
    for directory, dirs, files in os.walk(base, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        found.extend(Path(directory) / f for f in sorted(files) if f != _COMPLETE)
    return found
