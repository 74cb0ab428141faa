"""The REST client against the contract-checked double: requests the contract accepts."""

from __future__ import annotations

import socket

import pytest
import requests

from infra.registry.client import (
    ARCHIVED,
    RegistryClient,
    RegistryError,
    decode_custom_properties,
    encode_custom_properties,
)
from tests.imports import loaded_by
from tests.unit.registry.double import Contract, RegistryDouble


@pytest.fixture
def client(registry: RegistryDouble) -> RegistryClient:
    return RegistryClient(registry.api_url, timeout=5, page_size=2)


def test_encode_custom_properties_follows_metadata_value_types() -> None:
    encoded = encode_custom_properties({"acc": 0.9, "n": 3, "ok": True, "team": "ml"})
    assert encoded == {
        "acc": {"metadataType": "MetadataDoubleValue", "double_value": 0.9},
        "n": {"metadataType": "MetadataIntValue", "int_value": "3"},
        "ok": {"metadataType": "MetadataBoolValue", "bool_value": True},
        "team": {"metadataType": "MetadataStringValue", "string_value": "ml"},
    }
    assert decode_custom_properties(encoded) == {"acc": 0.9, "n": 3, "ok": True, "team": "ml"}
    with pytest.raises(TypeError, match="'bad': unsupported type list"):
        encode_custom_properties({"bad": [1]})  # type: ignore[dict-item]


def test_model_version_artifact_round_trip(
    client: RegistryClient, registry: RegistryDouble
) -> None:
    assert client.find_registered_model("iris") is None
    model = client.create_registered_model(
        "iris", description="flowers", custom_properties=encode_custom_properties({"t": "ml"})
    )
    assert client.find_registered_model("iris") == model
    version = client.create_model_version(
        "3",
        registered_model_id=model.id,
        custom_properties=encode_custom_properties({"accuracy": 0.97}),
    )
    assert client.find_model_version("3", registered_model_id=model.id) == version
    assert client.find_model_version("3", registered_model_id="999") is None
    artifact = client.create_model_artifact(
        version.id,
        name="iris",
        uri="s3://m/iris",
        model_format_name="tensorflow",
        model_format_version="2",
        storage_key="aws-connection",
    )
    assert artifact.uri == "s3://m/iris"
    assert artifact.storage_key == "aws-connection"
    assert client.list_model_artifacts(version.id) == [artifact]
    assert decode_custom_properties(version.custom_properties) == {"accuracy": 0.97}
    path = f"/api/model_registry/v1alpha3/model_versions/{version.id}/artifacts"
    assert ("POST", path) in registry.calls()


def test_lists_follow_next_page_token(client: RegistryClient, registry: RegistryDouble) -> None:
    model = registry.add_model("iris")
    for name in ("1", "2", "3", "4", "5"):
        registry.add_version(model["id"], name)
    names = [v.name for v in client.list_model_versions(model["id"])]
    assert names == ["1", "2", "3", "4", "5"]
    tokens = [e.query.get("nextPageToken") for e in registry.exchanges]
    assert tokens == [None, "2", "4"]


def test_archive_patches_state_and_never_deletes(
    client: RegistryClient, registry: RegistryDouble
) -> None:
    model = registry.add_model("iris")
    version = registry.add_version(model["id"], "1")
    assert client.update_model_version(version["id"], state=ARCHIVED).state == "ARCHIVED"
    assert client.update_registered_model(model["id"], state=ARCHIVED).state == "ARCHIVED"
    assert registry.calls("DELETE") == []
    assert [e.body for e in registry.exchanges] == [{"state": "ARCHIVED"}] * 2


def test_update_artifact_patches_only_given_fields(
    client: RegistryClient, registry: RegistryDouble
) -> None:
    model = registry.add_model("iris")
    version = registry.add_version(model["id"], "1")
    art = registry.add_artifact(version["id"], "s3://a/iris", modelFormatName="tensorflow")
    updated = client.update_model_artifact(art["id"], uri="s3://b/iris")
    assert updated.uri == "s3://b/iris"
    assert updated.model_format_name == "tensorflow"
    assert registry.exchanges[-1].body == {"artifactType": "model-artifact", "uri": "s3://b/iris"}


@pytest.mark.parametrize("status", [400, 401, 404, 500, 503])
def test_error_names_method_path_status_and_server_message(
    client: RegistryClient, registry: RegistryDouble, status: int
) -> None:
    registry.fail(status, "database is on fire", method="PATCH")
    with pytest.raises(RegistryError) as info:
        client.update_model_version("7", description="x")
    err = info.value
    assert (err.method, err.path, err.status) == ("PATCH", "/model_versions/7", status)
    assert "database is on fire" in str(err)
    assert f"PATCH /model_versions/7 failed (HTTP {status})" in str(err)


def test_conflict_on_duplicate_name(client: RegistryClient) -> None:
    client.create_registered_model("iris")
    with pytest.raises(RegistryError, match=r"POST /registered_models failed \(HTTP 409\)"):
        client.create_registered_model("iris")


def test_unreachable_registry_is_a_registry_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = RegistryClient(f"http://127.0.0.1:{port}/api/model_registry/v1alpha3", timeout=2)
    with pytest.raises(RegistryError, match=r"no response.*cannot reach registry") as info:
        client.find_registered_model("iris")
    assert info.value.status is None


def test_timeout_is_configurable_and_reported(registry: RegistryDouble) -> None:
    class SlowSession(requests.Session):
        def request(self, *args: object, **kwargs: object) -> requests.Response:  # type: ignore[override]
            assert kwargs["timeout"] == 0.25
            raise requests.ReadTimeout("slow")

    client = RegistryClient(registry.api_url, session=SlowSession(), timeout=0.25)
    with pytest.raises(
        RegistryError, match=r"GET /registered_model failed .*timed out after 0.25s"
    ):
        client.find_registered_model("iris")


def test_double_rejects_requests_the_contract_rejects(contract: Contract) -> None:
    with RegistryDouble(contract) as double:
        session = requests.Session()
        bad_state = session.patch(f"{double.api_url}/model_versions/1", json={"state": "GONE"})
        typo = session.post(
            f"{double.api_url}/registered_models", json={"name": "x", "desription": "typo"}
        )
        bad_value = session.post(
            f"{double.api_url}/registered_models",
            json={"name": "x", "customProperties": {"a": {"metadataType": "MetadataDoubleValue"}}},
        )
        delete = session.delete(f"{double.api_url}/registered_models/1")
    assert [r.status_code for r in (bad_state, typo, bad_value, delete)] == [400] * 4
    assert "'GONE' is not one of" in bad_state.json()["message"]
    assert "desription" in typo.json()["message"]
    assert "double_value" in bad_value.json()["message"]
    assert "OperationNotFound" in delete.json()["message"]
    assert len(double.violations) == 4


def test_public_names_of_the_package() -> None:
    import infra.registry

    names = set(infra.registry.__all__)
    assert {"RegistryClient", "RegistryError", "EntrySpec", "RegistryEndpoint"} <= names
    assert not [n for n in names if "Provider" in n or "Resource" in n]  # the shell's own
    assert all(hasattr(infra.registry, name) for name in names)


def test_the_package_front_imports_no_pulumi() -> None:
    """The front is the pure client; the Pulumi provider is imported from its own module."""
    assert loaded_by("import infra.registry", {"pulumi"}) == []
