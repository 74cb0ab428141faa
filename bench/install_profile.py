"""Where a `pulumi up` spends its time: summaries of Pulumi's own logs of one command.

`bench_install.py --profile DIR` runs each Pulumi command with `PULUMI_DEBUG_GRPC`
(every engine-provider and engine-language-host call, with its duration) and `--event-log`
(each step's start and end, 1 s resolution) written into DIR; this module reads them:

    python bench/install_profile.py DIR/up.grpc.jsonl DIR/up.events.jsonl

prints the calls per method (count, summed and longest seconds), the provider's `Check`,
`Diff` and `Create` seconds per kind, and how many steps were in flight over time.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: Provider calls summed per kind (the rest per method only).
PER_KIND = ("Check", "Diff", "Create", "Update", "Delete")
#: Calls the monitor answers only when the program ends: their "duration" is meaningless.
_OPEN_ENDED = ("RegisterResource", "RegisterResourceOutputs", "GetDeploymentInfo")


@dataclass(frozen=True)
class Call:
    """One completed gRPC call of the debug log."""

    method: str
    seconds: float
    kind: str


def _kind(urn: str) -> str:
    # urn:pulumi:stack::project::parent$type::name -> the type's last segment
    types = urn.split("::")[2] if urn.count("::") >= 3 else ""
    return types.split("$")[-1].split(":")[-1]


def read_calls(lines: Iterable[str]) -> Iterator[Call]:
    """Yield the completed calls of a `PULUMI_DEBUG_GRPC` log (one JSON object per line)."""
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut by a killed process
        if entry.get("progress") == "request_started":
            continue
        method = str(entry.get("method", "")).rsplit("/", 1)[-1]
        if method in _OPEN_ENDED:
            continue
        request = entry.get("request")
        urn = request.get("urn", "") if isinstance(request, dict) else ""
        yield Call(method, float(entry.get("duration", 0)) / 1e9, _kind(urn))


def by_method(calls: Iterable[Call]) -> dict[str, tuple[int, float, float]]:
    """Method -> (count, summed seconds, longest seconds)."""
    out: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        out[call.method].append(call.seconds)
    return {m: (len(v), sum(v), max(v)) for m, v in out.items()}


def by_kind(calls: Iterable[Call]) -> dict[tuple[str, str], float]:
    """(method, kind) -> summed seconds, for the provider calls of `PER_KIND`."""
    out: dict[tuple[str, str], float] = defaultdict(float)
    for call in calls:
        if call.method in PER_KIND:
            out[(call.method, call.kind)] += call.seconds
    return dict(out)


def in_flight(lines: Iterable[str], bucket: int = 10) -> list[float]:
    """Steps in flight, averaged per `bucket` seconds, from an `--event-log` file."""
    started: dict[str, int] = {}
    ended: dict[str, int] = {}
    first = last = None
    for line in lines:
        event = json.loads(line)
        stamp = int(event["timestamp"])
        first = stamp if first is None else first
        last = stamp
        for name, into in (("resourcePreEvent", started), ("resOutputsEvent", ended)):
            if name in event:
                into[event[name]["metadata"]["urn"]] = stamp
    if first is None or last is None:
        return []
    busy = [0] * (last - first + 1)
    for urn, start in started.items():
        for second in range(start, ended.get(urn, last) + 1):
            busy[second - first] += 1
    return [
        round(sum(busy[i : i + bucket]) / len(busy[i : i + bucket]), 1)
        for i in range(0, len(busy), bucket)
    ]


def report(grpc_log: Path, event_log: Path | None = None) -> str:
    """The text summary of one command's logs."""
    calls = list(read_calls(grpc_log.read_text(encoding="utf-8").splitlines()))
    lines = ["method                        calls    sum s    max s"]
    for method, (count, total, longest) in sorted(by_method(calls).items(), key=lambda i: -i[1][1]):
        lines.append(f"{method:28} {count:6} {total:8.1f} {longest:8.2f}")
    lines.append("provider seconds by kind (top 10):")
    ranked = sorted(by_kind(calls).items(), key=lambda item: -item[1])[:10]
    lines.extend(f"  {method:7} {kind:34} {seconds:7.1f}" for (method, kind), seconds in ranked)
    if event_log is not None:
        flight = in_flight(event_log.read_text(encoding="utf-8").splitlines())
        lines.append(f"steps in flight per 10 s: {flight}")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit("usage: install_profile.py GRPC_LOG [EVENT_LOG]")
    print(report(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) == 3 else None))
