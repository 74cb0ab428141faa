"""Secret tokens inside manifests: find them, and substitute their values (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.kubeflow.objects import SECRET_TOKEN_RE


def tokens_in(node: Any) -> frozenset[str]:
    """Return the names of every secret token anywhere in `node`."""
    if isinstance(node, str):
        return frozenset(SECRET_TOKEN_RE.findall(node))
    if isinstance(node, Mapping):
        return frozenset().union(*(tokens_in(v) for v in node.values()))
    if isinstance(node, list | tuple):
        return frozenset().union(*(tokens_in(v) for v in node))
    return frozenset()


def substitute(node: Any, values: Mapping[str, str]) -> Any:
    """Return a copy of `node` with every token replaced by its value.

    Raises:
        KeyError: a token names a secret missing from `values`.
    """
    if isinstance(node, str):
        return SECRET_TOKEN_RE.sub(lambda match: values[match.group(1)], node)
    if isinstance(node, Mapping):
        return {k: substitute(v, values) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [substitute(v, values) for v in node]
    return node
