"""A picture of a compiled pipeline's DAG, read from its IR YAML (never drawn by hand).

`read_dag` turns the spec into nodes (tasks, named as the KFP UI shows them), groups (the
sub-DAGs of `dsl.If` and friends, with their condition) and edges (`dependentTasks`, with a
group standing for the tasks inside it), keeping only the edges not implied by others so
the picture reads as the flow of the pipeline. `to_svg` lays the nodes out by topological
level, top to bottom; `to_mermaid` writes the same graph as a Mermaid flowchart.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Dag", "Node", "read_dag", "to_mermaid", "to_svg", "write_dag"]

_CHANNEL = re.compile(r"inputs\.parameter_values\['pipelinechannel--([^']+)'\]")
_CHAR_W, _NODE_H, _GAP_X, _GAP_Y, _PAD = 7.0, 46, 36, 54, 16


@dataclass(frozen=True)
class Node:
    """One task: its key in the spec, display name, component and enclosing group."""

    key: str
    label: str
    component: str
    group: str | None = None


@dataclass
class Dag:
    """Tasks, condition groups (key -> label) and dependency edges (from, to)."""

    name: str
    nodes: dict[str, Node] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)


def read_dag(spec: dict[str, Any]) -> Dag:
    """Read the DAG of a compiled pipeline spec (the first document of the IR YAML).

    Raises:
        ValueError: the document is not a compiled pipeline (no root.dag.tasks).

    """
    try:
        tasks = spec["root"]["dag"]["tasks"]
        components = spec.get("components", {})
    except (KeyError, TypeError):
        raise ValueError("not a compiled pipeline: no root.dag.tasks") from None
    dag = Dag(name=str(spec.get("pipelineInfo", {}).get("name", "pipeline")))
    raw: dict[str, list[str]] = {}
    members: dict[str, list[str]] = {}
    _walk(tasks, components, group=None, dag=dag, raw=raw, members=members)
    edges = {
        (src, dst)
        for task, deps in raw.items()
        for dep in deps
        for src in _exits(dep, raw, members)
        for dst in _entries(task, raw, members)
    }
    dag.edges = _reduce(edges)
    return dag


def _walk(
    tasks: dict[str, Any],
    components: dict[str, Any],
    *,
    group: str | None,
    dag: Dag,
    raw: dict[str, list[str]],
    members: dict[str, list[str]],
) -> None:
    for key, task in tasks.items():
        raw[key] = list(task.get("dependentTasks", []))
        component = task.get("componentRef", {}).get("name", "")
        inner = components.get(component, {}).get("dag", {}).get("tasks")
        label = task.get("taskInfo", {}).get("name", key)
        if inner is not None:
            condition = _condition(task)
            dag.groups[key] = f"{label} [if {condition}]" if condition else label
            members[key] = list(inner)
            _walk(inner, components, group=key, dag=dag, raw=raw, members=members)
        else:
            dag.nodes[key] = Node(key, label, component.removeprefix("comp-"), group)


def _condition(task: dict[str, Any]) -> str:
    text = str(task.get("triggerPolicy", {}).get("condition", ""))
    text = _CHANNEL.sub(lambda m: m.group(1).replace("-Output", " output"), text)
    return text


def _entries(key: str, raw: dict[str, list[str]], members: dict[str, list[str]]) -> list[str]:
    """The tasks an edge into `key` reaches: a group's tasks without a dependency inside it."""
    if key not in members:
        return [key]
    inside = members[key]
    firsts = [t for t in inside if not set(raw[t]) & set(inside)]
    return [n for t in firsts for n in _entries(t, raw, members)]


def _exits(key: str, raw: dict[str, list[str]], members: dict[str, list[str]]) -> list[str]:
    """The tasks an edge out of `key` leaves from: a group's tasks nothing inside depends on."""
    if key not in members:
        return [key]
    inside = members[key]
    needed = {d for t in inside for d in raw[t]}
    return [n for t in inside if t not in needed for n in _exits(t, raw, members)]


def _reduce(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Drop each edge a longer path already implies (transitive reduction of a DAG)."""
    succ: dict[str, set[str]] = {}
    for a, b in edges:
        succ.setdefault(a, set()).add(b)

    def reachable(start: str, skip: tuple[str, str]) -> set[str]:
        seen: set[str] = set()
        stack = [n for n in succ.get(start, ()) if (start, n) != skip]
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(succ.get(node, ()))
        return seen

    return {(a, b) for a, b in edges if b not in reachable(a, (a, b))}


def levels(dag: Dag) -> dict[str, int]:
    """Topological level of each node: the length of the longest path reaching it.

    Raises:
        ValueError: the graph has a cycle.

    """
    preds: dict[str, list[str]] = {k: [] for k in dag.nodes}
    for a, b in dag.edges:
        preds[b].append(a)
    level: dict[str, int] = {}
    pending = sorted(dag.nodes)
    while pending:
        ready = [k for k in pending if all(p in level for p in preds[k])]
        if not ready:
            raise ValueError(f"the DAG has a cycle through {', '.join(pending)}")
        for k in ready:
            level[k] = 1 + max((level[p] for p in preds[k]), default=-1)
        pending = [k for k in pending if k not in level]
    return level


def to_mermaid(dag: Dag) -> str:
    """Return the DAG as a Mermaid flowchart (top-down), groups as subgraphs."""
    ids = {key: f"n{i}" for i, key in enumerate(sorted(dag.nodes))}
    lines = ["flowchart TD"]
    for key, node in sorted(dag.nodes.items()):
        if node.group is None:
            lines.append(f'  {ids[key]}["{_mm(node.label)}"]')
    for gi, (group, label) in enumerate(sorted(dag.groups.items())):
        lines.append(f'  subgraph g{gi}["{_mm(label)}"]')
        lines += [
            f'    {ids[k]}["{_mm(n.label)}"]' for k, n in dag.nodes.items() if n.group == group
        ]
        lines.append("  end")
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in sorted(dag.edges)]
    return "\n".join(lines) + "\n"


def _mm(text: str) -> str:
    return text.replace('"', "#quot;")


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    w: float
    h: float


def _layout(dag: Dag) -> tuple[dict[str, _Box], float, float]:
    level = levels(dag)
    rows: dict[int, list[str]] = {}
    for key in sorted(dag.nodes, key=lambda k: (level[k], k)):
        rows.setdefault(level[key], []).append(key)
    width = {
        k: _CHAR_W * max(len(n.label), len(n.component)) + 2 * _PAD for k, n in dag.nodes.items()
    }
    row_w = {r: sum(width[k] for k in ks) + _GAP_X * (len(ks) - 1) for r, ks in rows.items()}
    total_w = max(row_w.values(), default=0) + 4 * _PAD
    # A group's label must fit on the canvas too (its dashed box grows to hold it).
    labels_w = max((_label_width(label) for label in dag.groups.values()), default=0.0)
    total_w = max(total_w, labels_w + 4 * _PAD)
    boxes = {}
    for r, keys in rows.items():
        x = (total_w - row_w[r]) / 2
        for k in keys:
            boxes[k] = _Box(x, 3 * _PAD + r * (_NODE_H + _GAP_Y), width[k], _NODE_H)
            x += width[k] + _GAP_X
    total_h = 3 * _PAD + len(rows) * (_NODE_H + _GAP_Y) - _GAP_Y + 4 * _PAD
    return boxes, total_w, total_h


def to_svg(dag: Dag) -> str:
    """Return the DAG as a standalone SVG: tasks by topological level, groups as dashed boxes."""
    boxes, width, height = _layout(dag)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif">',
        f"<title>{html.escape(dag.name)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
    ]
    for group, label in sorted(dag.groups.items()):
        inside = [boxes[k] for k, n in dag.nodes.items() if n.group == group]
        if inside:
            out += _group_svg(inside, label)
    for a, b in sorted(dag.edges):
        s, t = boxes[a], boxes[b]
        x1, y1, x2, y2 = s.x + s.w / 2, s.y + s.h, t.x + t.w / 2, t.y
        mid = (y1 + y2) / 2
        curve = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{mid:.1f} {x2:.1f},{mid:.1f} {x2:.1f},{y2:.1f}"
        out.append(
            f'<path d="{curve}" fill="none" stroke="#555" stroke-width="1.4" '
            'marker-end="url(#arrow)"/>'
        )
    for key, node in sorted(dag.nodes.items()):
        out += _node_svg(boxes[key], node)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _group_svg(inside: list[_Box], label: str) -> list[str]:
    x0 = min(b.x for b in inside) - _PAD
    y0 = min(b.y for b in inside) - _PAD
    x1 = max(b.x + b.w for b in inside) + _PAD
    y1 = max(b.y + b.h for b in inside) + 2 * _PAD
    center, half = (x0 + x1) / 2, max((x1 - x0) / 2, _label_width(label) / 2)
    x0, x1 = center - half, center + half
    return [
        f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" rx="8" '
        'fill="#fff8e6" stroke="#c98b00" stroke-dasharray="6 4"/>',
        f'<text x="{x0 + 8:.1f}" y="{y1 - 9:.1f}" font-size="11" fill="#8a5d00">'
        f"{html.escape(label)}</text>",
    ]


def _label_width(label: str) -> float:
    return _CHAR_W * len(label) + _PAD


def _node_svg(box: _Box, node: Node) -> list[str]:
    cx = box.x + box.w / 2
    return [
        f'<g class="task" id="task-{html.escape(node.key)}">',
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h}" rx="6" '
        'fill="#e8f0fe" stroke="#3367d6" stroke-width="1.2"/>',
        f'<text x="{cx:.1f}" y="{box.y + 19:.1f}" font-size="13" text-anchor="middle" '
        f'fill="#111">{html.escape(node.label)}</text>',
        f'<text x="{cx:.1f}" y="{box.y + 36:.1f}" font-size="10" text-anchor="middle" '
        f'fill="#666">{html.escape(node.component)}</text>',
        "</g>",
    ]


def load_spec(path: Path) -> dict[str, Any]:
    """Read the pipeline spec (first YAML document) of a compiled pipeline file.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not YAML, or not a mapping.

    """
    text = Path(path).read_text(encoding="utf-8")
    try:
        spec = next(iter(yaml.safe_load_all(text)), None)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not a YAML pipeline spec: {exc}") from None
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: not a compiled pipeline (expected a YAML mapping)")
    return spec


def write_dag(spec_path: Path, out: Path, *, fmt: str | None = None) -> Path:
    """Draw the DAG of the compiled pipeline at `spec_path` into `out` (SVG or Mermaid).

    Args:
        spec_path: The IR YAML written by `kfstack pipeline compile`.
        out: The file to write; the format follows its suffix (.svg; .mmd/.md: Mermaid).
        fmt: "svg" or "mermaid", overriding the suffix.

    Raises:
        ValueError: an unknown format, or a file that is not a compiled pipeline.

    """
    out = Path(out)
    fmt = fmt or (
        "svg" if out.suffix == ".svg" else "mermaid" if out.suffix in (".mmd", ".md") else ""
    )
    if fmt not in ("svg", "mermaid"):
        raise ValueError(f"{out}: give a .svg, .mmd or .md file, or a format (svg, mermaid)")
    try:
        dag = read_dag(load_spec(spec_path))
    except ValueError as err:
        raise ValueError(f"{spec_path}: {err}") from None
    text = to_svg(dag) if fmt == "svg" else to_mermaid(dag)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
