"""What a plan entry keeps: its final objects, secrets, install graph and schema findings.

The plan entry (a JSON entry of `render/entries.py`) is keyed by the code of
`infra/kubeflow`, the source digest, the settings and the tool versions, so what is
derived from the objects alone is kept with them: the edges, waves and critical path
(object indexes) and the schema findings, the two costly parts of a plan. The policy and
pod security checks, the gate that keeps default credentials and privileged pods out of a
cluster, are never read from disk: they run on the objects of every plan, cached or not.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from infra.kubeflow.graph import InstallGraph
from infra.kubeflow.objects import Finding, ObjectKey, PlannedObject, SecretSpec

PLAN_FORMAT = 2


@dataclass(frozen=True)
class Derived:
    """What is computed from a plan's objects alone (and cached with them)."""

    graph: InstallGraph
    schema_findings: tuple[Finding, ...]


@dataclass(frozen=True)
class PlanEntry:
    """A plan before its policy checks: objects, secrets and what was derived from them.

    Computed from the rendered objects, or read from the plan's cache entry.
    """

    objects: tuple[PlannedObject, ...]
    secrets: tuple[SecretSpec, ...]
    derived: Derived


def plan_payload(entry: PlanEntry) -> dict[str, object]:
    """Return the JSON payload of a plan entry (objects by index in the graph)."""
    objects, secrets, graph = entry.objects, entry.secrets, entry.derived.graph
    index = {o.key: i for i, o in enumerate(objects)}
    return {
        "objects": [
            [
                list(dataclasses.astuple(o.key)),
                o.manifest,
                o.component,
                o.origin,
                o.holds_data,
                o.reason,
            ]
            for o in objects
        ],
        "secrets": [dataclasses.asdict(s) for s in secrets],
        "edges": [
            [index[key], sorted(index[d] for d in deps)] for key, deps in graph.edges.items()
        ],
        "waves": [[index[key] for key in wave] for wave in graph.waves],
        "critical_path": [index[key] for key in graph.critical_path],
        "schema_findings": [
            [
                f.rule,
                f.severity,
                None if f.key is None else list(dataclasses.astuple(f.key)),
                f.message,
            ]
            for f in entry.derived.schema_findings
        ],
    }


def read_plan_payload(payload: Any) -> PlanEntry | None:
    """Return the plan of a payload `plan_payload` wrote, or None when it is not one."""
    if not isinstance(payload, dict):
        return None
    try:
        objects = tuple(
            PlannedObject(ObjectKey(*k), m, c, origin=o, holds_data=bool(h), reason=str(r))
            for k, m, c, o, h, r in payload["objects"]
        )
        keys = [o.key for o in objects]
        graph = InstallGraph(
            edges={keys[i]: frozenset(keys[j] for j in deps) for i, deps in payload["edges"]},
            waves=tuple(tuple(keys[i] for i in wave) for wave in payload["waves"]),
            critical_path=tuple(keys[i] for i in payload["critical_path"]),
        )
        derived = Derived(
            graph=graph,
            schema_findings=tuple(
                Finding(str(rule), severity, None if key is None else ObjectKey(*key), str(message))
                for rule, severity, key, message in payload["schema_findings"]
            ),
        )
        secrets = tuple(SecretSpec(**s) for s in payload["secrets"])
    except (TypeError, KeyError, ValueError, IndexError):
        return None
    if any(f.severity not in ("error", "warning") for f in derived.schema_findings):
        return None
    return PlanEntry(objects, secrets, derived)
