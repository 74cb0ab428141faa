"""How the plan is fed to the engine: CRDs as one batch, and the order of registration.

Why (measured, README "Where `pulumi up` spends its time"): the Kubernetes provider forgets
the API server's OpenAPI document whenever a CRD it created becomes established, and its
next Check reads the whole document again (1-2 s with the release's 60-odd CRDs; provider
`Create` -> `invalidateResources`, `Check` -> `getResources`). The engine checks registered
resources one at a time. CRDs created as they were checked therefore made every following
Check wait for a re-read: one CRD per re-read, most of the first `up`.

So the plan holds the CRDs back until all of them are checked: every CRD depends on one
anchor CRD (rule ``crd-batch``), and the shell registers the anchor first and the other
CRDs right after it (`registration_order`). While the anchor is created, the others are
checked against a document that is still valid; then they are created together, and the
checks after them re-read the document once or twice instead of once per CRD.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence

from infra.kubeflow.graph.edges import Edge, PlanIndex
from infra.kubeflow.objects import ObjectKey

CRD_BATCH_RULE = "crd-batch"
_CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")


def is_crd(key: ObjectKey) -> bool:
    """Whether `key` names a CustomResourceDefinition."""
    return (key.group, key.kind) == _CRD


def crd_batch_edges(index: PlanIndex, edges: Iterable[Edge]) -> Iterator[Edge]:
    """Yield: every CRD depends on the anchor, the largest CRD that depends on nothing.

    The anchor has no edges of its own, so the batch can never close a cycle; the largest
    is the slowest to create, which leaves the most time to check the others.
    """
    dependents = {e.dependent for e in edges}
    crds = sorted(k for k in index.by_key if is_crd(k))
    free = [k for k in crds if k not in dependents]
    if len(crds) < 2 or not free:
        return
    anchor = max(free, key=lambda k: (len(json.dumps(index.by_key[k], default=str)), k))
    for key in crds:
        if key != anchor:
            yield Edge(key, anchor, CRD_BATCH_RULE)


def registration_order(
    keys: Sequence[ObjectKey], edges: Mapping[ObjectKey, Iterable[ObjectKey]]
) -> tuple[ObjectKey, ...]:
    """Return `keys` in a dependency order that takes CRDs as soon as they may come.

    Each key comes after every key it depends on (edges to keys outside `keys` are
    ignored); among the keys that may come next, CRDs go first, then the smallest key.
    The caller has checked the graph for cycles (`install_waves`); a key on a cycle is
    left out.
    """
    wanted = set(keys)
    pending = {k: {d for d in edges.get(k, ()) if d in wanted and d != k} for k in wanted}
    waiting_on: dict[ObjectKey, list[ObjectKey]] = {k: [] for k in wanted}
    for key, deps in pending.items():
        for dep in deps:
            waiting_on[dep].append(key)
    ready = [(not is_crd(k), k) for k, deps in pending.items() if not deps]
    heapq.heapify(ready)
    order = []
    while ready:
        _, key = heapq.heappop(ready)
        order.append(key)
        for dependent in waiting_on[key]:
            deps = pending[dependent]
            deps.discard(key)
            if not deps:
                heapq.heappush(ready, (not is_crd(dependent), dependent))
    return tuple(order)
