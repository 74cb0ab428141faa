"""bench/install_profile.py: summaries of Pulumi's gRPC debug log and event log."""

from __future__ import annotations

import json

from bench.install_profile import by_kind, by_method, in_flight, read_calls

PARENT = "urn:pulumi:s::kfstack::kfstack:kubeflow:KubeflowPlatform"
CRD = f"{PARENT}$kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition::crd:a"
NS = f"{PARENT}$kubernetes:core/v1:Namespace::ns:a"


def _call(method: str, seconds: float, urn: str = "", progress: str = "") -> str:
    entry = {"method": f"/pulumirpc.ResourceProvider/{method}", "duration": int(seconds * 1e9)}
    if urn:
        entry["request"] = {"urn": urn}
    if progress:
        entry["progress"] = progress
    return json.dumps(entry)


def test_calls_are_summed_per_method_and_per_kind_without_started_or_cut_lines() -> None:
    lines = [
        _call("Check", 0.0, CRD, progress="request_started"),
        _call("Check", 2.0, CRD),
        _call("Check", 0.5, NS),
        _call("Create", 1.0, CRD),
        '{"method": "/pulumirpc.ResourceMonitor/RegisterResource", "duration": 9e18}',
        '{"method": "/pulumirpc.ResourceProvider/Check", "dur',  # cut by a kill
    ]
    calls = list(read_calls(lines))
    assert by_method(calls) == {"Check": (2, 2.5, 2.0), "Create": (1, 1.0, 1.0)}
    assert by_kind(calls) == {
        ("Check", "CustomResourceDefinition"): 2.0,
        ("Check", "Namespace"): 0.5,
        ("Create", "CustomResourceDefinition"): 1.0,
    }


def test_steps_in_flight_per_bucket() -> None:
    def event(kind: str, urn: str, stamp: int) -> str:
        return json.dumps({"timestamp": stamp, kind: {"metadata": {"urn": urn}}})

    lines = [
        event("resourcePreEvent", "a", 100),
        event("resourcePreEvent", "b", 101),
        event("resOutputsEvent", "a", 101),
        event("resOutputsEvent", "b", 103),
    ]
    # seconds 100..103: a busy 100-101, b busy 101-103 -> 1, 2, 1, 1
    assert in_flight(lines, bucket=2) == [1.5, 1.0]
    assert in_flight([], bucket=2) == []
