"""Cache entries: JSON, keyed by every input and tool version, verified on each read."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.kubeflow import core
from infra.kubeflow.checks import schema
from infra.kubeflow.core import build_plan
from infra.kubeflow.graph import InstallGraph
from infra.kubeflow.objects import ObjectKey, PlannedObject
from infra.kubeflow.plan_entry import Derived, PlanEntry, plan_payload, read_plan_payload
from infra.kubeflow.render.entries import (
    cache_key,
    read_entry,
    sign_entry,
    tool_versions,
    write_entry,
)
from infra.kubeflow.settings import ManifestSource
from tests.settings import kubeflow_settings


def test_round_trip_and_every_mismatch_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "entry.json"
    key = cache_key("digest", tool_versions("v1.37.1"))
    write_entry(path, key, {"objects": [{"kind": "ConfigMap"}]})
    assert read_entry(path, key) == {"objects": [{"kind": "ConfigMap"}]}
    assert read_entry(path, cache_key("digest", tool_versions("v1.38.0"))) is None
    header, body = path.read_text().split("\n", 1)
    payload = json.loads(body)
    payload["objects"].append({"kind": "Pod", "spec": {"hostPID": True}})
    path.write_text(f"{header}\n{json.dumps(payload)}")
    assert read_entry(path, key) is None  # tampered payload: its digest no longer matches
    path.write_text(sign_entry(key, json.dumps(payload)))
    assert read_entry(path, key) == payload  # the digest is over the bytes as written


def test_the_key_holds_the_tool_versions() -> None:
    versions = tool_versions("v1.37.1")
    assert set(versions) >= {"kfstack", "kustomize", "kubernetes-validate"}
    assert versions["kubernetes-validate"] != "absent"
    assert cache_key("d", versions) != cache_key("d", {**versions, "kubernetes-validate": "0"})


def test_a_pickle_or_garbage_is_never_loaded(tmp_path: Path) -> None:
    path = tmp_path / "entry.json"
    path.write_bytes(pickle.dumps({"format": 2}))
    assert read_entry(path, "k") is None
    path.write_text("[" * 100_000)
    assert read_entry(path, "k") is None
    assert read_entry(tmp_path / "missing.json", "k") is None


def test_findings_of_a_cached_plan_are_recomputed(kubeflow_manifests: Path, tmp_path: Path) -> None:
    settings = kubeflow_settings(
        preset=None,
        components=("kubeflow-namespace",),
        cluster_kind="existing",
        source=ManifestSource(path=kubeflow_manifests),
    )
    cache = tmp_path / "cache"
    assert build_plan(settings, cache_dir=cache).errors == ()
    (entry_file,) = (cache / "plans").glob("*.json")
    header, body = entry_file.read_text().split("\n", 1)
    payload = json.loads(body)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "planted", "namespace": "kubeflow"},
        "spec": {"containers": [{"name": "c", "securityContext": {"privileged": True}}]},
    }
    payload["objects"].append([["", "Pod", "kubeflow", "planted"], pod, "x", "release", False, ""])
    # Whoever can write the cache can sign an entry too.
    entry_file.write_text(sign_entry(json.loads(header)["key"], json.dumps(payload)))
    replanned = build_plan(settings, cache_dir=cache)
    planted = ObjectKey("", "Pod", "kubeflow", "planted")
    assert [f.rule for f in replanned.errors if f.key == planted] == ["policy.pod-security"]


def test_a_cached_plan_is_the_cold_plan_without_graph_or_schema_work(
    kubeflow_manifests: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = kubeflow_settings(
        preset=None,
        components=("cert-manager", "kubeflow-namespace"),
        cluster_kind="existing",
        source=ManifestSource(path=kubeflow_manifests),
    )
    cache = tmp_path / "cache"
    cold = build_plan(settings, cache_dir=cache)
    assert cold.edges and len(cold.waves) > 1

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("recomputed from a cached plan")

    monkeypatch.setattr(core, "install_graph", refuse)
    monkeypatch.setattr(schema, "validate_objects", refuse)
    warm = build_plan(settings, cache_dir=cache)
    assert warm == cold


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p["edges"].append([10_000, [0]]),
        lambda p: p["waves"].append(["x"]),
        lambda p: p["schema_findings"].append(["validate.schema", "fatal", None, "m"]),
        lambda p: p.pop("critical_path"),
    ],
)
def test_a_damaged_plan_payload_is_a_miss(damage: Callable[[dict[str, Any]], None]) -> None:
    key = ObjectKey("", "ConfigMap", "n", "c")
    obj = PlannedObject(key, {"kind": "ConfigMap"}, "x")
    derived = Derived(InstallGraph({key: frozenset()}, ((key,),), (key,)), ())
    payload = json.loads(json.dumps(plan_payload(PlanEntry((obj,), (), derived))))
    assert read_plan_payload(payload) == PlanEntry((obj,), (), derived)
    damage(payload)
    assert read_plan_payload(payload) is None
