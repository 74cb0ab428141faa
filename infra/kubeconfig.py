"""The one kubeconfig reader: parse, pick a context, find its cluster and user (pure).

Config validation reads the kubeconfig of an `existing` cluster here, the cluster modules
read the API server of theirs, and the Model Registry's client (infra/registry/kubeconfig.py)
builds credentials on top, the only place that runs a kubeconfig's exec plugin. Nothing
here imports Pulumi or touches the network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.safe_yaml import UnsafeDocumentError, load_one

__all__ = [
    "KubeconfigError",
    "looks_like_content",
    "named",
    "names",
    "parse",
    "read_stack_kubeconfig",
    "server_of",
]

# A value shown in a "file not found" error: it looks like a path, not like a token.
_PATH_LIKE = re.compile(r"(~|\.{0,2}/)?[\w.+@-]*(/[\w.+@-]+)+/?|[\w.+@-]+\.(ya?ml|json|conf)")


class KubeconfigError(ValueError):
    """A kubeconfig that cannot be used: what is wrong, and in which entry."""


def parse(content: str, *, source: str = "kubeconfig") -> dict[str, Any]:
    """Parse kubeconfig text (YAML or JSON) into a mapping, within the YAML limits.

    Raises:
        KubeconfigError: not YAML, over a limit, or not a mapping.

    """
    document = _load(content, source=source)
    if not isinstance(document, dict):
        raise KubeconfigError(f"{source} is not a YAML mapping")
    return document


def _load(content: str, *, source: str) -> Any:
    try:
        return load_one(content, source=source, secret=True)
    except UnsafeDocumentError as exc:
        raise KubeconfigError(str(exc)) from None


def names(config: Mapping[str, Any], section: str) -> str:
    """The names of a section's entries (`contexts`, `clusters`, `users`), for messages."""
    found = [str(e.get("name")) for e in config.get(section) or [] if isinstance(e, dict)]
    return ", ".join(found) or "(none)"


def named(
    config: Mapping[str, Any], section: str, name: Any, kind: str, *, owner: Any = None
) -> dict[str, Any]:
    """The body of the entry `name` of `section` (`contexts`/`context` ...).

    Raises:
        KubeconfigError: no such entry; the message lists the section's names.

    """
    for entry in config.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            body = entry.get(kind)
            return body if isinstance(body, dict) else {}
    where = f" (used by context {owner!r})" if owner else ""
    raise KubeconfigError(
        f"kubeconfig has no {kind} {name!r}{where}; {section}: {names(config, section)}"
    )


def server_of(content: str, *, context: str | None = None) -> str:
    """The API server URL of a kubeconfig's context (YAML or JSON).

    `context` defaults to the current-context; a kubeconfig with neither names its
    first cluster.

    Raises:
        KubeconfigError: not a kubeconfig, or one without clusters.

    """
    config = parse(content)
    clusters = [c for c in config.get("clusters") or [] if isinstance(c, dict)]
    if not clusters:
        raise KubeconfigError("kubeconfig has no clusters")
    wanted = context or config.get("current-context")
    contexts = {c.get("name"): c.get("context") or {} for c in config.get("contexts") or []}
    bodies = {c.get("name"): c.get("cluster") or {} for c in clusters}
    cluster = bodies.get(contexts.get(wanted, {}).get("cluster")) or clusters[0].get("cluster")
    return str((cluster or {}).get("server", ""))


def looks_like_content(value: str) -> bool:
    """A kubeconfig given inline (YAML/JSON) rather than as a path."""
    stripped = value.lstrip()
    return "\n" in value or stripped.startswith(("{", "apiVersion"))


def read_stack_kubeconfig(value: str, *, context: str | None, base: Path) -> str:
    """Return the content of `kfstack:cluster.kubeconfig` (a path or the content), checked.

    It must parse, be a `kind: Config` and hold the context (or its current-context).

    Raises:
        KubeconfigError: missing file, unparsable content or unknown context,
            naming `kfstack:cluster.kubeconfig` / `.context`.

    """
    if looks_like_content(value):
        content = value
    else:
        path = Path(value).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            # A value that is neither a path nor content may be a credential: not shown.
            shown = str(path) if _PATH_LIKE.fullmatch(value) else "(value not shown)"
            raise KubeconfigError(f"kfstack:cluster.kubeconfig: file not found: {shown}")
        content = path.read_text(encoding="utf-8")
    document = _load(content, source="kfstack:cluster.kubeconfig")
    if not isinstance(document, dict) or document.get("kind", "Config") != "Config":
        raise KubeconfigError("kfstack:cluster.kubeconfig: not a kubeconfig (kind: Config)")
    contexts = [c.get("name") for c in document.get("contexts") or [] if isinstance(c, dict)]
    wanted = context or document.get("current-context")
    if wanted not in contexts:
        raise KubeconfigError(
            f"kfstack:cluster.context: {wanted!r} is not in the kubeconfig; "
            f"its contexts: {', '.join(map(str, contexts)) or '(none)'}"
        )
    return content
