"""ModelRegistryProvider methods called directly against the contract-checked registry double.

Pulumi mocks never call a dynamic provider's methods, so these tests are where create, adopt,
diff, update, delete and read are exercised.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import dill
import pulumi
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc

from infra.registry.client import RegistryError
from infra.registry.entry import EntryConflictError
from infra.registry.provider import (
    ModelRegistryEntry,
    ModelRegistryEntryArgs,
    ModelRegistryProvider,
    RegistryConnectionArgs,
)
from tests.unit.registry.double import Contract, RegistryDouble

API = "/api/model_registry/v1alpha3"


@pytest.fixture
def provider() -> ModelRegistryProvider:
    return ModelRegistryProvider()


def props(registry: RegistryDouble, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "base_url": registry.url,
        "model_name": "iris",
        "version_name": "3",
        "artifact_uri": "s3://models/iris",
        "model_format_name": "tensorflow",
        "model_format_version": "2",
        "description": "Iris classifier",
        "metrics": {"accuracy": 0.97},
        "labels": {"team": "ml"},
    }
    base.update(overrides)
    return base


def version_3_of_iris(registry: RegistryDouble, **fields: Any) -> dict[str, Any]:
    """Seed version "3" of model "iris", as if someone else had registered it."""
    return registry.add_version(registry.add_model("iris")["id"], "3", **fields)


def custom(entity: dict[str, Any]) -> dict[str, Any]:
    return entity["customProperties"]


# -- create / adopt ------------------------------------------------------------------------


def test_create_registers_model_version_and_artifact(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    result = provider.create(props(registry))
    outs = result.outs or {}
    assert outs["model_registry_uri"] == "model-registry://iris/3"
    assert result.id == outs["model_version_id"]
    model = registry.models[outs["registered_model_id"]]
    version = registry.versions[outs["model_version_id"]]
    artifact = registry.artifacts[outs["model_artifact_id"]]
    assert model["name"] == "iris"
    assert (version["name"], version["registeredModelId"]) == ("3", model["id"])
    assert version["description"] == "Iris classifier"
    assert custom(version) == {
        "accuracy": {"metadataType": "MetadataDoubleValue", "double_value": 0.97},
        "team": {"metadataType": "MetadataStringValue", "string_value": "ml"},
    }
    assert artifact["uri"] == "s3://models/iris"
    assert (artifact["modelFormatName"], artifact["modelFormatVersion"]) == ("tensorflow", "2")
    assert registry.version_artifacts[version["id"]] == [artifact["id"]]
    assert outs["base_url"] == registry.url  # inputs are kept for update and delete


def test_create_reuses_an_existing_registered_model(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    existing = registry.add_model("iris", description="made by hand")
    outs = provider.create(props(registry)).outs or {}
    assert outs["registered_model_id"] == existing["id"]
    assert ("POST", f"{API}/registered_models") not in registry.calls()
    assert len(registry.models) == 1


def test_create_unarchives_an_archived_registered_model(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    existing = registry.add_model("iris", state="ARCHIVED")
    provider.create(props(registry))
    assert registry.models[existing["id"]]["state"] == "LIVE"


def test_create_adopts_a_version_with_the_same_artifact_uri(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    version = version_3_of_iris(
        registry,
        state="ARCHIVED",
        customProperties={
            "reviewed-by": {"metadataType": "MetadataStringValue", "string_value": "ana"}
        },
    )
    artifact = registry.add_artifact(version["id"], "s3://models/iris", modelFormatName="onnx")
    outs = provider.create(props(registry)).outs or {}
    assert (outs["model_version_id"], outs["model_artifact_id"]) == (version["id"], artifact["id"])
    assert registry.calls("POST") == []
    adopted = registry.versions[version["id"]]
    assert adopted["state"] == "LIVE"
    assert set(custom(adopted)) == {"reviewed-by", "accuracy", "team"}  # hand-made one kept
    assert registry.artifacts[artifact["id"]]["modelFormatName"] == "tensorflow"


def test_create_adds_the_artifact_to_an_existing_empty_version(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    version = version_3_of_iris(registry)
    outs = provider.create(props(registry)).outs or {}
    assert outs["model_version_id"] == version["id"]
    assert registry.artifacts[outs["model_artifact_id"]]["uri"] == "s3://models/iris"


def test_create_refuses_a_version_that_exists_with_another_uri(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    version = version_3_of_iris(registry)
    registry.add_artifact(version["id"], "s3://models/iris-old")
    with pytest.raises(EntryConflictError) as info:
        provider.create(props(registry))
    message = str(info.value)
    assert "iris/3 already exists" in message
    assert "s3://models/iris-old" in message
    assert "not s3://models/iris" in message
    assert "choose a new version name" in message
    assert registry.calls("POST") == []
    assert registry.calls("PATCH") == []


@pytest.mark.parametrize("status", [401, 500, 503])
def test_create_reports_a_server_error_clearly(
    provider: ModelRegistryProvider, registry: RegistryDouble, status: int
) -> None:
    registry.fail(status, "registry database unavailable", method="POST")
    with pytest.raises(RegistryError) as info:
        provider.create(props(registry))
    assert info.value.status == status
    assert str(info.value) == (
        f"model registry: POST /registered_models failed (HTTP {status}): "
        "registry database unavailable [injected]"
    )


def test_create_reports_a_4xx_on_find_clearly(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    registry.fail(401, "token expired", method="GET", path="/registered_model")
    with pytest.raises(RegistryError, match=r"GET /registered_model failed \(HTTP 401\)"):
        provider.create(props(registry))


# -- diff ----------------------------------------------------------------------------------


def stored(registry: RegistryDouble, **overrides: Any) -> dict[str, Any]:
    """Old state as the engine holds it: inputs, outputs, serialized provider, floats."""
    return {
        **props(registry, **overrides),
        "port": 8080.0,
        "registered_model_id": "1",
        "model_version_id": "2",
        "model_artifact_id": "3",
        "model_registry_uri": "model-registry://iris/3",
        "__provider": "pickled",
    }


def test_diff_of_identical_inputs_is_no_change(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    result = provider.diff("2", stored(registry), {**props(registry), "__provider": "other"})
    assert result.changes is False
    assert result.replaces == []


@pytest.mark.parametrize("key", ["version_name", "model_name"])
def test_diff_new_name_replaces(
    provider: ModelRegistryProvider, registry: RegistryDouble, key: str
) -> None:
    result = provider.diff("2", stored(registry), props(registry, **{key: "new-name"}))
    assert result.changes is True
    assert result.replaces == [key]
    assert result.delete_before_replace is False


@pytest.mark.parametrize(
    "change",
    [
        {"metrics": {"accuracy": 0.98}},
        {"labels": {}},
        {"description": "better"},
        {"artifact_uri": "s3://models/iris-v2"},
        {"model_format_version": "2.21"},
        {"storage_key": "s3-secret"},
        {"kubeconfig": "apiVersion: v1", "base_url": None},
    ],
)
def test_diff_other_changes_update_in_place(
    provider: ModelRegistryProvider, registry: RegistryDouble, change: dict[str, Any]
) -> None:
    result = provider.diff("2", stored(registry), props(registry, **change))
    assert result.changes is True
    assert result.replaces == []


# -- update --------------------------------------------------------------------------------


def test_update_patches_version_and_artifact_and_keeps_foreign_properties(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    olds = provider.create(props(registry, labels={"team": "ml", "stage": "dev"})).outs or {}
    version_id = olds["model_version_id"]
    custom(registry.versions[version_id])["ticket"] = {
        "metadataType": "MetadataStringValue",
        "string_value": "ML-1",
    }
    news = props(
        registry,
        metrics={"accuracy": 0.99, "f1": 0.9},
        labels={"team": "ml"},
        description="retrained",
        artifact_uri="s3://models/iris-fixed",
    )
    outs = provider.update(version_id, olds, news).outs or {}
    version = registry.versions[version_id]
    assert version["description"] == "retrained"
    assert set(custom(version)) == {"accuracy", "f1", "team", "ticket"}  # "stage" removed
    assert custom(version)["accuracy"]["double_value"] == 0.99
    assert registry.artifacts[olds["model_artifact_id"]]["uri"] == "s3://models/iris-fixed"
    assert {k: outs[k] for k in ("model_version_id", "model_artifact_id")} == {
        k: olds[k] for k in ("model_version_id", "model_artifact_id")
    }
    assert outs["metrics"] == {"accuracy": 0.99, "f1": 0.9}


def test_update_of_connection_only_calls_nothing(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    olds = provider.create(props(registry)).outs or {}
    before = len(registry.exchanges)
    news = props(registry, timeout=10.0)
    outs = provider.update(olds["model_version_id"], olds, news).outs or {}
    assert len(registry.exchanges) == before
    assert outs["timeout"] == 10.0
    assert outs["model_artifact_id"] == olds["model_artifact_id"]


def test_update_clears_a_storage_key_that_was_removed(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    olds = provider.create(props(registry, storage_key="s3-secret")).outs or {}
    assert registry.artifacts[olds["model_artifact_id"]]["storageKey"] == "s3-secret"
    provider.update(olds["model_version_id"], olds, props(registry, description="x"))
    assert registry.artifacts[olds["model_artifact_id"]]["storageKey"] == ""


def test_update_of_a_vanished_version_says_to_refresh(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    olds = provider.create(props(registry)).outs or {}
    del registry.versions[olds["model_version_id"]]
    with pytest.raises(
        EntryConflictError, match=r"no longer in the registry; run `pulumi refresh`"
    ):
        provider.update(olds["model_version_id"], olds, props(registry, description="x"))


# -- delete --------------------------------------------------------------------------------


def test_delete_archives_version_and_last_model_never_deletes(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    outs = provider.create(props(registry)).outs or {}
    provider.delete(outs["model_version_id"], outs)
    assert registry.versions[outs["model_version_id"]]["state"] == "ARCHIVED"
    assert registry.models[outs["registered_model_id"]]["state"] == "ARCHIVED"
    assert registry.calls("DELETE") == []


def test_delete_keeps_the_model_while_another_version_is_live(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    old = provider.create(props(registry, version_name="3")).outs or {}
    new = provider.create(props(registry, version_name="4")).outs or {}
    provider.delete(old["model_version_id"], old)  # replacement: create new, then delete old
    assert registry.versions[old["model_version_id"]]["state"] == "ARCHIVED"
    assert registry.versions[new["model_version_id"]]["state"] == "LIVE"
    assert registry.models[old["registered_model_id"]]["state"] == "LIVE"


def test_delete_of_an_already_archived_entry_is_quiet(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    outs = provider.create(props(registry)).outs or {}
    provider.delete(outs["model_version_id"], outs)
    patches = len(registry.calls("PATCH"))
    provider.delete(outs["model_version_id"], outs)
    assert len(registry.calls("PATCH")) == patches


# -- read ----------------------------------------------------------------------------------


def test_read_reports_drift_of_managed_fields_only(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    outs = provider.create(props(registry)).outs or {}
    version = registry.versions[outs["model_version_id"]]
    version["description"] = "edited in the UI"
    custom(version)["accuracy"]["double_value"] = 0.5
    custom(version)["ticket"] = {"metadataType": "MetadataStringValue", "string_value": "ML-1"}
    result = provider.read(outs["model_version_id"], outs)
    assert result.id == outs["model_version_id"]
    refreshed = result.outs or {}
    assert refreshed["description"] == "edited in the UI"
    assert refreshed["metrics"] == {"accuracy": 0.5}
    assert refreshed["labels"] == {"team": "ml"}
    assert refreshed["artifact_uri"] == "s3://models/iris"


def test_read_of_an_archived_version_reports_it_gone(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    outs = provider.create(props(registry)).outs or {}
    registry.versions[outs["model_version_id"]]["state"] = "ARCHIVED"
    assert provider.read(outs["model_version_id"], outs).id is None


# -- check ---------------------------------------------------------------------------------


def test_check_names_each_bad_input(provider: ModelRegistryProvider) -> None:
    news = {
        "model_name": "Iris_Model",
        "version_name": "",
        "metrics": {"x": 1.0},
        "labels": {"x": "y"},
    }
    failures = {f.property: f.reason for f in provider.check({}, news).failures}
    assert set(failures) == {"model_name", "version_name", "artifact_uri", "kubeconfig", "labels"}
    assert "DNS-1035" in failures["model_name"]
    assert "kubeconfig or a base_url" in failures["kubeconfig"]


def test_check_skips_values_unknown_in_preview(provider: ModelRegistryProvider) -> None:
    news = {
        "model_name": rpc.UNKNOWN,
        "version_name": rpc.UNKNOWN,
        "artifact_uri": rpc.UNKNOWN,
        "kubeconfig": rpc.UNKNOWN,
        "metrics": rpc.UNKNOWN,
        "labels": {"team": "ml"},
    }
    assert provider.check({}, news).failures == []


def test_check_accepts_good_inputs(
    provider: ModelRegistryProvider, registry: RegistryDouble
) -> None:
    assert provider.check({}, props(registry)).failures == []


# -- through the API server's service proxy with kubeconfig credentials ---------------------


@pytest.fixture
def apiserver(contract: Contract) -> Iterator[RegistryDouble]:
    with RegistryDouble(contract, token="s3cr3t") as double:
        yield double
    assert double.violations == []


def test_create_through_service_proxy_with_kubeconfig_token(
    provider: ModelRegistryProvider, apiserver: RegistryDouble
) -> None:
    kubeconfig = f"""
apiVersion: v1
kind: Config
current-context: ci
contexts:
- name: ci
  context: {{cluster: c, user: u}}
clusters:
- name: c
  cluster: {{server: "{apiserver.url}"}}
users:
- name: u
  user: {{token: s3cr3t}}
"""
    bag = props(apiserver, base_url=None, kubeconfig=kubeconfig, port=8080.0)
    outs = provider.create(bag).outs or {}
    assert outs["model_registry_uri"] == "model-registry://iris/3"
    assert {e.proxy for e in apiserver.exchanges} == {
        ("kubeflow", "model-registry-service", "8080")
    }
    assert {e.authorization for e in apiserver.exchanges} == {"Bearer s3cr3t"}
    provider.delete(outs["model_version_id"], outs)
    assert apiserver.versions[outs["model_version_id"]]["state"] == "ARCHIVED"


def test_wrong_token_is_a_clear_401(
    provider: ModelRegistryProvider, apiserver: RegistryDouble
) -> None:
    with pytest.raises(RegistryError, match=r"HTTP 401.*missing or wrong bearer token"):
        provider.create(props(apiserver))


# -- Pulumi packaging ----------------------------------------------------------------------


def test_provider_pickles_by_reference() -> None:
    blob = base64.b64decode(serialize_provider(ModelRegistryProvider()))
    assert b"infra.registry.provider" in blob
    assert b"ModelRegistryProvider" in blob
    assert b"dill" not in blob and len(blob) < 120  # a reference, not an inlined class body
    assert type(dill.loads(blob)) is ModelRegistryProvider


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        return "42", {**args.inputs, "model_registry_uri": "model-registry://iris/3"}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        return {}, []


def test_entry_resource_registers_typed_inputs_under_mocks() -> None:
    from ml.model_release import ModelRelease

    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, preview=False)
    release = ModelRelease.model_validate(
        {
            "name": "iris",
            "version": "3",
            "serving_version": 3,
            "storage_uri": "gs://b/iris",
            "metrics": {"accuracy": 0.9},
            "input_schema": [{"name": "x", "kind": "numeric", "dtype": "float32"}],
            "created_at": "2026-11-28T00:00:00Z",
        }
    )
    args = ModelRegistryEntryArgs.from_release(
        release, connection=RegistryConnectionArgs(kubeconfig="apiVersion: v1")
    )

    @pulumi.runtime.test
    def check() -> pulumi.Output[Any]:
        entry = ModelRegistryEntry("iris", args)

        def verify(uri: str) -> None:
            (res,) = mocks.resources
            assert res.typ == "pulumi-python:dynamic/kfstack:ModelRegistryEntry"
            assert res.inputs["model_name"] == "iris"
            assert res.inputs["version_name"] == "3"
            assert res.inputs["artifact_uri"] == "gs://b/iris"
            assert res.inputs["metrics"] == {"accuracy": 0.9}
            kubeconfig = res.inputs["kubeconfig"]  # registered as a secret
            assert kubeconfig[rpc._special_sig_key] == rpc._special_secret_sig
            assert kubeconfig["value"] == "apiVersion: v1"
            assert "__provider" in res.inputs
            assert uri == "model-registry://iris/3"

        return entry.model_registry_uri.apply(verify)

    check()


def test_connection_needs_exactly_one_way_in() -> None:
    with pytest.raises(ValueError, match="exactly one of kubeconfig or base_url"):
        RegistryConnectionArgs()
    with pytest.raises(ValueError, match="exactly one of kubeconfig or base_url"):
        RegistryConnectionArgs(kubeconfig="x", base_url="http://127.0.0.1:1")
