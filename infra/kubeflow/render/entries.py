"""The render and plan caches: JSON entries, keyed by every input, verified on each read.

An entry is a header line `{"format", "key", "sha256"}` and then the payload's JSON: the key
is recomputed by the reader (source content digest, settings, and the versions of kfstack,
kustomize and the schema validator), the digest is checked over the payload's bytes as
written (no second serialisation on either side), and anything that does not match is a miss.
No pickle: a cache file someone else wrote can at worst be a wrong list of objects (or a
wrong install order), and the policy and pod security findings are recomputed from the
objects on every plan, never read from disk (`plan_entry.py`).
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from kfstack.atomic import write_text_atomic

__all__ = ["FORMAT", "cache_key", "read_entry", "sign_entry", "tool_versions", "write_entry"]

FORMAT = 3
# A cache entry larger than this is not read (the full render is ~15 MB of JSON).
MAX_ENTRY_BYTES = 512 * 1024 * 1024


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def tool_versions(kustomize: str) -> dict[str, str]:
    """Return the versions a cached render or plan depends on, besides its inputs."""
    return {
        "kfstack": _version("kfstack"),
        "kustomize": kustomize,
        "kubernetes-validate": _version("kubernetes-validate"),
        "pyyaml": _version("pyyaml"),
    }


def cache_key(*parts: Any) -> str:
    """Return the sha256 of `parts` (JSON, keys sorted) and the cache format."""
    body = json.dumps([FORMAT, *parts], sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def read_entry(path: Path, key: str) -> Any | None:
    """Return the payload stored at `path` under `key`, or None (missing, stale, corrupt)."""
    try:
        if path.stat().st_size > MAX_ENTRY_BYTES:
            return None
        head, _, body = path.read_bytes().partition(b"\n")
        header = json.loads(head)
        if (
            not isinstance(header, dict)
            or header.get("format") != FORMAT
            or header.get("key") != key
            or header.get("sha256") != hashlib.sha256(body).hexdigest()
        ):
            return None
        return json.loads(body)
    except (OSError, ValueError, RecursionError):
        return None


def sign_entry(key: str, body: str) -> str:
    """Return the text of an entry holding the payload JSON `body` under `key`."""
    digest = hashlib.sha256(body.encode()).hexdigest()
    header = json.dumps({"format": FORMAT, "key": key, "sha256": digest})
    return f"{header}\n{body}"


def write_entry(path: Path, key: str, payload: Any) -> None:
    """Store `payload` under `key` at `path` atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # json.dumps, not json.dump: only the one-shot call uses the C encoder (dump streams
    # through the pure-Python one, ~10x slower on a 12 MB render). Its output has no raw
    # newline (ensure_ascii), so the header line ends at the first one.
    write_text_atomic(path, sign_entry(key, json.dumps(payload, separators=(",", ":"))))
