"""Read YAML (and JSON) that someone else wrote: size, depth and alias-expansion limits.

Every file kfstack reads from a user or a repository goes through here: stack files,
compiled pipeline packages, release records, rendered manifests and kubeconfigs. Safe
loading alone stops code execution, not a 700-byte alias bomb that expands to gigabytes
or a 100 000-deep nest that ends in a RecursionError. So the document is composed first
(node graph, linear in the input), its expanded size and depth are measured with each
aliased node counted once per use, and only then turned into Python objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from infra import block_yaml

__all__ = ["Limits", "UnsafeDocumentError", "check_depth", "load_all", "load_json", "load_one"]

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR, _SEQ, _MAP = (f"tag:yaml.org,2002:{t}" for t in ("str", "seq", "map"))
_PLAIN_KEYS = (str, int, float, bool, type(None))


class _NotPlain(Exception):
    """A document the one-walk builder leaves to the exact path (alias, odd tag, limit)."""


@dataclass(frozen=True)
class Limits:
    """How large a document may be: bytes of input, nodes after alias expansion, depth."""

    max_bytes: int = 8 * 1024 * 1024
    max_nodes: int = 2_000_000
    max_depth: int = 64


# Rendered manifests: ~12 MB for the whole platform, CRD schemas nest ~40 deep.
MANIFESTS = Limits(max_bytes=256 * 1024 * 1024, max_nodes=50_000_000, max_depth=200)


class UnsafeDocumentError(ValueError):
    """A document over a limit (or not parseable); the message names the source."""


def _measure(root: yaml.Node, limits: Limits, source: str) -> None:
    """Raise if the expanded node count or the depth of `root` is over `limits`.

    Most documents (every render of kubectl) hold no alias: a plain walk of the tree checks
    them. The first collection seen twice (an alias, maybe recursive) hands the document to
    the exact walk, which measures each shared node once.
    """
    mapping, sequence = yaml.MappingNode, yaml.SequenceNode
    max_depth, max_nodes = limits.max_depth, limits.max_nodes
    collections: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    pop, push = stack.pop, stack.append
    total = 0
    while stack:
        node, depth = pop()
        total += 1
        if depth > max_depth or total > max_nodes:
            break  # the exact walk says which limit, in its own words
        kind = type(node)
        if kind is mapping or kind is sequence:
            key = id(node)
            if key in collections:
                break
            collections.add(key)
            if kind is mapping:
                for pair in node.value:
                    push((pair[0], depth + 1))
                    push((pair[1], depth + 1))
            else:
                for child in node.value:
                    push((child, depth + 1))
    else:
        return
    _measure_shared(root, limits, source)


def _build_plain(root: yaml.Node, loader: Any, limits: Limits) -> Any:
    """Build a document without aliases, merge keys or unusual tags, measuring as it goes.

    One recursive walk instead of a measuring walk and the constructor's own: the same
    Python values as `construct_document` for the documents kubectl renders. Anything else
    (a collection seen twice, a tag other than str/seq/map on a collection, a key that is
    not a scalar, a limit reached) raises `_NotPlain`, and the exact path takes it.
    """
    scalar, mapping = yaml.ScalarNode, yaml.MappingNode
    constructors = loader.yaml_constructors
    max_depth, max_nodes = limits.max_depth, limits.max_nodes
    seen: set[int] = set()
    count = 0

    def build(node: yaml.Node, depth: int) -> Any:
        nonlocal count
        count += 1
        if depth > max_depth or count > max_nodes or id(node) in seen:
            raise _NotPlain
        kind = type(node)
        if kind is scalar:
            return node.value if node.tag == _STR else constructors[node.tag](loader, node)
        seen.add(id(node))
        if node.tag != (_MAP if kind is mapping else _SEQ):
            raise _NotPlain
        if kind is not mapping:
            return [build(child, depth + 1) for child in node.value]
        built = {}
        for key_node, value_node in node.value:
            key = build(key_node, depth + 1)
            if not isinstance(key, _PLAIN_KEYS):
                raise _NotPlain  # a merge key or a collection key: the constructor's rules
            built[key] = build(value_node, depth + 1)
        return built

    try:
        return build(root, 1)
    except (RecursionError, KeyError):  # KeyError: a scalar tag no constructor knows
        raise _NotPlain from None


def _measure_shared(root: yaml.Node, limits: Limits, source: str) -> None:
    """The exact walk: shared (aliased) nodes measured once, counted once per use."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    total = 0
    # Iterative post-order walk: shared (aliased) nodes are measured once, counted per use.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    active: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in sizes and not done:
            continue
        children = _children(node)
        if not done:
            if key in active:
                raise UnsafeDocumentError(
                    f"{source}: a recursive alias (an anchor used inside itself)"
                )
            active.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        active.discard(key)
        sizes[key] = 1 + sum(sizes[id(c)] for c in children)
        depths[key] = 1 + max((depths[id(c)] for c in children), default=0)
        if depths[key] > limits.max_depth:
            raise UnsafeDocumentError(
                f"{source}: nested deeper than {limits.max_depth} levels; flatten it"
            )
        total = sizes[key]
        if total > limits.max_nodes:
            raise UnsafeDocumentError(
                f"{source}: expands to more than {limits.max_nodes} nodes "
                "(YAML aliases repeat their anchor); refusing it"
            )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _where(exc: yaml.YAMLError, *, secret: bool) -> str:
    """The position (and, unless `secret`, the parser's problem) of a YAML error.

    Never the offending text itself: a kubeconfig's broken line may hold a token.
    """
    mark = getattr(exc, "problem_mark", None)
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None)
    if secret or not problem:
        return at
    return f"{at}: {problem}"


def load_all(
    text: str | bytes, *, source: str, limits: Limits = Limits(), secret: bool = False
) -> list[Any]:
    """Return every document of a YAML stream, each checked against `limits` first.

    With `secret`, an error names only the position, never the parser's problem text.

    Raises:
        UnsafeDocumentError: the input is over a limit or is not valid YAML (names `source`).

    """
    size = len(text.encode() if isinstance(text, str) else text)
    if size > limits.max_bytes:
        raise UnsafeDocumentError(
            f"{source}: {size} bytes, more than the {limits.max_bytes} allowed"
        )
    try:
        lines = list(block_yaml.documents(text.decode() if isinstance(text, bytes) else text))
    except (block_yaml.Declined, UnicodeDecodeError):
        return _load_all_libyaml(text, source=source, limits=limits, secret=secret)
    documents: list[Any] = []
    for document, open_end in lines:
        try:
            documents.append(
                block_yaml.read_document(
                    document,
                    max_depth=limits.max_depth,
                    max_nodes=limits.max_nodes,
                    open_end=open_end,
                )
            )
            continue
        except block_yaml.Declined:
            pass
        try:
            piece = "\n".join(document) + ("" if open_end else "\n")
            exact = _load_all_libyaml(piece, source=source, limits=limits)
        except UnsafeDocumentError:
            exact = []  # read the whole stream, for the error's true line number
        if len(exact) != 1:
            return _load_all_libyaml(text, source=source, limits=limits, secret=secret)
        documents.append(exact[0])
    return documents


def _load_all_libyaml(
    text: str | bytes, *, source: str, limits: Limits, secret: bool = False
) -> list[Any]:
    """`load_all` by libyaml alone: every document composed, measured, then built."""
    loader = _Loader(text)
    documents: list[Any] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            try:
                documents.append(_build_plain(node, loader, limits))
            except _NotPlain:
                _measure(node, limits, source)
                documents.append(loader.construct_document(node))
    except yaml.YAMLError as exc:
        raise UnsafeDocumentError(f"{source}: not valid YAML{_where(exc, secret=secret)}") from None
    except RecursionError:
        raise UnsafeDocumentError(
            f"{source}: nested deeper than {limits.max_depth} levels; flatten it"
        ) from None
    finally:
        loader.dispose()
    return documents


def load_one(
    text: str | bytes, *, source: str, limits: Limits = Limits(), secret: bool = False
) -> Any:
    """Return the single document of `text` (None when empty); see `load_all`.

    Raises:
        UnsafeDocumentError: over a limit, not YAML, or more than one document.

    """
    documents = load_all(text, source=source, limits=limits, secret=secret)
    if len(documents) > 1:
        raise UnsafeDocumentError(f"{source}: expected one YAML document, found {len(documents)}")
    return documents[0] if documents else None


def check_depth(value: Any, *, source: str, max_depth: int = Limits().max_depth) -> Any:
    """Return `value` if its nesting is at most `max_depth`, else raise (iteratively).

    Raises:
        UnsafeDocumentError: nested deeper than `max_depth`.

    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise UnsafeDocumentError(
                f"{source}: nested deeper than {max_depth} levels; flatten it"
            )
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list | tuple):
            stack.extend((v, depth + 1) for v in node)
    return value


def load_json(text: str, *, source: str, limits: Limits = Limits()) -> Any:
    """Parse JSON within `limits` (bytes and depth).

    Raises:
        UnsafeDocumentError: over a limit (names `source`).
        json.JSONDecodeError: not valid JSON.

    """
    if len(text.encode()) > limits.max_bytes:
        raise UnsafeDocumentError(f"{source}: more than the {limits.max_bytes} bytes allowed")
    try:
        value = json.loads(text)
    except RecursionError:
        raise UnsafeDocumentError(
            f"{source}: nested deeper than {limits.max_depth} levels; flatten it"
        ) from None
    return check_depth(value, source=source, max_depth=limits.max_depth)
