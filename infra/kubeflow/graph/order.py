"""The install graph: dependency inference, cycle check, waves, critical path.

`infer_edges` returns, for every object of the plan, the objects it must be installed
after (see edges.py for each rule). Webhook edges are added last and never point from
an object the webhook configuration is itself installed after (its backing objects):
those are admitted before the webhook exists, so the webhook can never wait on itself.
What is left is checked for cycles by `install_waves`, which raises `CycleError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from infra.kubeflow.graph.edges import (
    Edge,
    PlanIndex,
    all_webhooks,
    cert_manager_edges,
    crd_edges,
    declared_edges,
    fail_closed_webhooks,
    namespace_edges,
    pod_needs_edges,
    webhook_backend_edges,
    webhook_edges,
)
from infra.kubeflow.objects import DeclaredEdge, Manifest, ObjectKey, PlannedObject

Edges = Mapping[ObjectKey, Iterable[ObjectKey]]


class CycleError(ValueError):
    """The install graph has a cycle; `cycle` lists its objects in dependency order."""

    def __init__(self, cycle: Sequence[ObjectKey]) -> None:
        self.cycle: tuple[ObjectKey, ...] = tuple(cycle)
        chain = " -> ".join(str(k) for k in (*self.cycle, self.cycle[0]))
        super().__init__(
            f"dependency cycle between {len(self.cycle)} objects (each depends on the next): "
            f"{chain}; declare the order in the catalogue or drop one of these edges"
        )


def explain_edges(
    manifests: Sequence[Manifest], declared: Sequence[DeclaredEdge] = ()
) -> list[Edge]:
    """Return every inferred edge with the rule that produced it, sorted, without duplicates.

    Only edges between objects of `manifests` are kept, and no object depends on itself.
    """
    index = PlanIndex.of(manifests)
    webhooks = fail_closed_webhooks(index)
    base = _keep(
        index,
        [
            *crd_edges(index),
            *namespace_edges(index),
            *cert_manager_edges(index),
            *pod_needs_edges(index),
            *declared_edges(index, declared),
            *webhook_backend_edges(index, all_webhooks(index)),
        ],
    )
    configs = {w.config for w in webhooks}
    backing = _ancestors(_adjacency(base), configs)
    return sorted(set(base) | set(_keep(index, webhook_edges(index, webhooks, backing))))


@dataclass(frozen=True)
class InstallGraph:
    """The install graph of a plan: edges, waves and the critical path."""

    # key -> the keys it must be installed after (only keys of the plan).
    edges: Mapping[ObjectKey, frozenset[ObjectKey]]
    waves: tuple[tuple[ObjectKey, ...], ...]
    critical_path: tuple[ObjectKey, ...]


def install_graph(
    objects: Sequence[PlannedObject], declared: Sequence[DeclaredEdge] = ()
) -> InstallGraph:
    """The graph stage: the edges of `objects` (inferred and declared), waves, critical path.

    Raises:
        CycleError: naming the objects of one cycle.

    """
    keys = [o.key for o in objects]
    edges = infer_edges([o.manifest for o in objects], declared)
    return InstallGraph(edges, install_waves(keys, edges), critical_path(keys, edges))


def infer_edges(
    manifests: Sequence[Manifest], declared: Sequence[DeclaredEdge] = ()
) -> dict[ObjectKey, frozenset[ObjectKey]]:
    """Return key -> the keys it must be installed after, for every object of the plan."""
    edges: dict[ObjectKey, set[ObjectKey]] = {ObjectKey.of(m): set() for m in manifests}
    for edge in explain_edges(manifests, declared):
        edges[edge.dependent].add(edge.dependency)
    return {key: frozenset(deps) for key, deps in edges.items()}


def _keep(index: PlanIndex, edges: Iterable[Edge]) -> list[Edge]:
    return [
        e
        for e in edges
        if e.dependent != e.dependency
        and e.dependent in index.by_key
        and e.dependency in index.by_key
    ]


def _adjacency(edges: Iterable[Edge]) -> dict[ObjectKey, set[ObjectKey]]:
    graph: dict[ObjectKey, set[ObjectKey]] = {}
    for edge in edges:
        graph.setdefault(edge.dependent, set()).add(edge.dependency)
    return graph


def _ancestors(
    graph: Mapping[ObjectKey, Iterable[ObjectKey]], roots: Iterable[ObjectKey]
) -> dict[ObjectKey, frozenset[ObjectKey]]:
    """Return root -> everything it transitively depends on."""
    found = {}
    for root in roots:
        seen: set[ObjectKey] = set()
        stack = list(graph.get(root, ()))
        while stack:
            key = stack.pop()
            if key not in seen:
                seen.add(key)
                stack.extend(graph.get(key, ()))
        found[root] = frozenset(seen)
    return found


def _find_cycle(remaining: set[ObjectKey], edges: Edges) -> list[ObjectKey]:
    """Return one cycle among `remaining` (nodes that all lie on or before a cycle)."""
    start = min(remaining)
    path: list[ObjectKey] = []
    position: dict[ObjectKey, int] = {}
    node = start
    while node not in position:
        position[node] = len(path)
        path.append(node)
        node = min(d for d in edges.get(node, ()) if d in remaining)
    return path[position[node] :]


def install_waves(keys: Sequence[ObjectKey], edges: Edges) -> tuple[tuple[ObjectKey, ...], ...]:
    """Return the keys in topological levels: wave n only depends on waves before it.

    Edges to keys outside `keys` are ignored; each wave is sorted.

    Raises:
        CycleError: naming the objects of one cycle.

    """
    wanted = set(keys)
    pending = {k: {d for d in edges.get(k, ()) if d in wanted and d != k} for k in wanted}
    waves = []
    while pending:
        ready = sorted(k for k, deps in pending.items() if not deps)
        if not ready:
            raise CycleError(_find_cycle(set(pending), pending))
        waves.append(tuple(ready))
        for key in ready:
            del pending[key]
        done = set(ready)
        for waiting in pending.values():
            waiting.difference_update(done)
    return tuple(waves)


def critical_path(keys: Sequence[ObjectKey], edges: Edges) -> tuple[ObjectKey, ...]:
    """Return the longest dependency chain, first-installed first.

    Ties go to the smallest key, so the answer is deterministic; each element depends on
    the one before it.

    Raises:
        CycleError: naming the objects of one cycle.

    """
    wanted = set(keys)
    length: dict[ObjectKey, int] = {}
    previous: dict[ObjectKey, ObjectKey | None] = {}
    for wave in install_waves(keys, edges):
        for key in wave:
            deps = sorted(d for d in edges.get(key, ()) if d in wanted and d != key)
            best = min(deps, key=lambda d: (-length[d], d), default=None)
            previous[key] = best
            length[key] = 1 + (length[best] if best is not None else 0)
    if not length:
        return ()
    node: ObjectKey | None = min(length, key=lambda k: (-length[k], k))
    chain = []
    while node is not None:
        chain.append(node)
        node = previous[node]
    return tuple(reversed(chain))
