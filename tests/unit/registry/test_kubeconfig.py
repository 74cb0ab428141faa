"""Kubeconfig parsing into credentials, exec plugins, the service-proxy URL and session files."""

from __future__ import annotations

import base64
import json
import stat
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.registry.kubeconfig import (
    API_PREFIX,
    ClusterCredentials,
    KubeconfigError,
    RegistryEndpoint,
    direct_endpoint,
    endpoint_from_kubeconfig,
    load_kubeconfig,
    open_session,
    service_proxy_url,
)

CA = b"-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
CERT = b"-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n"
KEY = b"-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubeconfig(users: dict[str, Any], *, current: str | None = "dev", **cluster: Any) -> str:
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "dev-cluster", "cluster": {"server": "https://dev:6443", **cluster}},
            {"name": "prod-cluster", "cluster": {"server": "https://prod:6443/"}},
        ],
        "contexts": [
            {"name": "dev", "context": {"cluster": "dev-cluster", "user": "dev-user"}},
            {"name": "prod", "context": {"cluster": "prod-cluster", "user": "prod-user"}},
        ],
        "users": [{"name": name, "user": user} for name, user in users.items()],
    }
    if current:
        config["current-context"] = current
    return yaml.safe_dump(config)


def test_token_user_and_ca_data_of_current_context() -> None:
    text = kubeconfig(
        {"dev-user": {"token": "abc"}, "prod-user": {"token": "xyz"}},
        **{"certificate-authority-data": b64(CA)},
    )
    creds = load_kubeconfig(text)
    assert creds.server == "https://dev:6443"
    assert creds.token == "abc"
    assert creds.ca_data == CA
    assert creds.client_cert_data is None
    assert "abc" not in repr(creds)  # secrets stay out of logs


def test_context_selection_overrides_current_context() -> None:
    text = kubeconfig({"dev-user": {"token": "abc"}, "prod-user": {"token": "xyz"}})
    creds = load_kubeconfig(text, context="prod")
    assert (creds.server, creds.token) == ("https://prod:6443/", "xyz")


def test_missing_context_lists_the_available_ones() -> None:
    text = kubeconfig({"dev-user": {"token": "abc"}})
    with pytest.raises(KubeconfigError, match=r"no context 'staging'; contexts: dev, prod"):
        load_kubeconfig(text, context="staging")


def test_no_current_context_and_none_given() -> None:
    text = kubeconfig({"dev-user": {"token": "abc"}}, current=None)
    with pytest.raises(KubeconfigError, match=r"no current-context.*contexts: dev, prod"):
        load_kubeconfig(text)


def test_context_pointing_at_a_missing_user_is_named() -> None:
    text = kubeconfig({"dev-user": {"token": "abc"}})
    with pytest.raises(KubeconfigError, match=r"no user 'prod-user' \(used by context 'prod'\)"):
        load_kubeconfig(text, context="prod")


def test_client_certificate_data_and_insecure_flag() -> None:
    text = kubeconfig(
        {"dev-user": {"client-certificate-data": b64(CERT), "client-key-data": b64(KEY)}},
        **{"insecure-skip-tls-verify": True},
    )
    creds = load_kubeconfig(text)
    assert (creds.client_cert_data, creds.client_key_data) == (CERT, KEY)
    assert creds.insecure_skip_tls_verify is True
    assert creds.token is None


def test_files_are_read_relative_to_base_dir(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_bytes(CA)
    (tmp_path / "token").write_text("from-file\n")
    text = kubeconfig({"dev-user": {"tokenFile": "token"}}, **{"certificate-authority": "ca.crt"})
    creds = load_kubeconfig(text, base_dir=tmp_path)
    assert (creds.ca_data, creds.token) == (CA, "from-file")


def test_unreadable_file_and_half_a_key_pair_are_errors(tmp_path: Path) -> None:
    text = kubeconfig({"dev-user": {"client-certificate": "missing.crt"}})
    with pytest.raises(
        KubeconfigError, match=r"cannot read client-certificate file .*missing\.crt"
    ):
        load_kubeconfig(text, base_dir=tmp_path)
    text = kubeconfig({"dev-user": {"client-certificate-data": b64(CERT)}})
    with pytest.raises(KubeconfigError, match="client certificate without a key"):
        load_kubeconfig(text)


def test_malformed_kubeconfig() -> None:
    with pytest.raises(KubeconfigError, match="not valid YAML"):
        load_kubeconfig("clusters: [")
    with pytest.raises(KubeconfigError, match="not a YAML mapping"):
        load_kubeconfig("- a")


def test_legacy_auth_provider_is_refused_with_a_way_out() -> None:
    text = kubeconfig({"dev-user": {"auth-provider": {"name": "gcp"}}})
    with pytest.raises(KubeconfigError, match=r"auth-provider.*gke-gcloud-auth-plugin"):
        load_kubeconfig(text)


# -- exec credential plugins ----------------------------------------------------------------


def plugin(tmp_path: Path, body: str) -> Path:
    """A tiny exec credential plugin: a Python script, as EKS's and GKE's are commands."""
    script = tmp_path / "cred-plugin"
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


ECHO_PLUGIN = """
import json, os, sys
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
print(json.dumps({
    "apiVersion": "client.authentication.k8s.io/v1",
    "kind": "ExecCredential",
    "status": {
        "token": "-".join([os.environ["CLUSTER_NAME"], *sys.argv[1:]]),
        "expirationTimestamp": "2099-01-01T00:00:00Z",
    },
}))
with open(os.environ["INFO_OUT"], "w") as out:
    json.dump(info, out)
"""


def test_exec_plugin_token_with_args_env_and_exec_info(tmp_path: Path) -> None:
    script = plugin(tmp_path, ECHO_PLUGIN)
    exec_spec = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": str(script),
        "args": ["eks", "get-token"],
        "env": [
            {"name": "CLUSTER_NAME", "value": "dev"},
            {"name": "INFO_OUT", "value": str(tmp_path / "info.json")},
        ],
        "provideClusterInfo": True,
        "interactiveMode": "Never",
    }
    text = kubeconfig({"dev-user": {"exec": exec_spec}}, **{"certificate-authority-data": b64(CA)})
    creds = load_kubeconfig(text)
    assert creds.token == "dev-eks-get-token"
    info = json.loads((tmp_path / "info.json").read_text())
    assert info["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert info["spec"]["interactive"] is False
    assert info["spec"]["cluster"]["server"] == "https://dev:6443"
    assert info["spec"]["cluster"]["certificate-authority-data"] == b64(CA)


def test_exec_plugin_client_certificate(tmp_path: Path) -> None:
    status = {"clientCertificateData": CERT.decode(), "clientKeyData": KEY.decode()}
    body = f"import json\nprint(json.dumps({{'kind': 'ExecCredential', 'status': {status!r}}}))\n"
    script = plugin(tmp_path, body)
    creds = load_kubeconfig(kubeconfig({"dev-user": {"exec": {"command": str(script)}}}))
    assert (creds.client_cert_data, creds.client_key_data) == (CERT, KEY)
    assert creds.token is None


def test_exec_relative_command_resolves_against_base_dir(tmp_path: Path) -> None:
    plugin(tmp_path, ECHO_PLUGIN)
    env = [{"name": "CLUSTER_NAME", "value": "x"}, {"name": "INFO_OUT", "value": "/dev/null"}]
    spec = {"command": "./cred-plugin", "env": env}
    creds = load_kubeconfig(kubeconfig({"dev-user": {"exec": spec}}), base_dir=tmp_path)
    assert creds.token == "x"


def test_exec_plugin_failure_shows_its_stderr(tmp_path: Path) -> None:
    script = plugin(
        tmp_path, "import sys\nsys.stderr.write('ExpiredToken: log in again')\nsys.exit(3)\n"
    )
    text = kubeconfig({"dev-user": {"exec": {"command": str(script)}}})
    with pytest.raises(KubeconfigError, match=r"exited 3: ExpiredToken: log in again"):
        load_kubeconfig(text)


def test_exec_plugin_not_installed_shows_install_hint() -> None:
    spec = {"command": "kfstack-no-such-plugin", "installHint": "install aws-cli v2"}
    text = kubeconfig({"dev-user": {"exec": spec}})
    with pytest.raises(
        KubeconfigError, match=r"'kfstack-no-such-plugin' not found \(install aws-cli"
    ):
        load_kubeconfig(text)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("not json", "did not print JSON"),
        ('{"kind": "Other", "status": {"token": "t"}}', "did not print an ExecCredential"),
        ('{"kind": "ExecCredential", "status": {"expirationTimestamp": "x"}}', "neither token"),
    ],
)
def test_exec_plugin_bad_output(tmp_path: Path, output: str, message: str) -> None:
    script = plugin(tmp_path, f"print({output!r})\n")
    text = kubeconfig({"dev-user": {"exec": {"command": str(script)}}})
    with pytest.raises(KubeconfigError, match=message):
        load_kubeconfig(text)


# -- URLs ----------------------------------------------------------------------------------


def test_service_proxy_url_defaults() -> None:
    assert service_proxy_url("https://api.example:6443/") == (
        "https://api.example:6443/api/v1/namespaces/kubeflow/services/"
        "model-registry-service:8080/proxy/api/model_registry/v1alpha3"
    )


def test_service_proxy_url_custom_service_and_named_port() -> None:
    url = service_proxy_url("https://k", namespace="mr", service="registry", port="http-api")
    assert url == f"https://k/api/v1/namespaces/mr/services/registry:http-api/proxy{API_PREFIX}"


def test_endpoint_from_kubeconfig_uses_the_context_server() -> None:
    text = kubeconfig({"dev-user": {"token": "abc"}, "prod-user": {"token": "xyz"}})
    endpoint = endpoint_from_kubeconfig(text, context="prod", port=9090)
    assert endpoint.api_url.startswith("https://prod:6443/api/v1/namespaces/kubeflow/")
    assert ":9090/proxy/api/model_registry/v1alpha3" in endpoint.api_url
    assert endpoint.credentials is not None and endpoint.credentials.token == "xyz"


@pytest.mark.parametrize(
    "base",
    ["http://localhost:8080", "http://localhost:8080/", f"http://localhost:8080{API_PREFIX}"],
)
def test_direct_endpoint_appends_the_api_prefix_once(base: str) -> None:
    endpoint = direct_endpoint(base)
    assert endpoint.api_url == f"http://localhost:8080{API_PREFIX}"
    assert endpoint.credentials is None


def test_direct_endpoint_rejects_non_http() -> None:
    with pytest.raises(KubeconfigError, match="not an http"):
        direct_endpoint("localhost:8080")


# -- session files -------------------------------------------------------------------------


def test_session_writes_private_cert_files_and_removes_them() -> None:
    creds = ClusterCredentials(
        server="https://k", ca_data=CA, client_cert_data=CERT, client_key_data=KEY, token="t"
    )
    with open_session(RegistryEndpoint("https://k" + API_PREFIX, creds)) as session:
        assert isinstance(session.verify, str) and isinstance(session.cert, tuple)
        ca, (cert, key) = Path(session.verify), (Path(p) for p in session.cert)
        assert (ca.read_bytes(), cert.read_bytes(), key.read_bytes()) == (CA, CERT, KEY)
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert session.headers["Authorization"] == "Bearer t"
    assert not ca.exists() and not cert.exists() and not key.exists()
    assert not ca.parent.exists()


def test_session_files_are_removed_when_the_body_fails() -> None:
    creds = ClusterCredentials(server="https://k", ca_data=CA)
    with (
        pytest.raises(RuntimeError, match="boom"),
        open_session(RegistryEndpoint("https://k", creds)) as session,
    ):
        ca = Path(str(session.verify))
        raise RuntimeError("boom")
    assert not ca.exists()


def test_session_insecure_and_plain() -> None:
    insecure = ClusterCredentials(server="https://k", insecure_skip_tls_verify=True)
    with open_session(RegistryEndpoint("https://k", insecure)) as session:
        assert session.verify is False
    with open_session(RegistryEndpoint("http://localhost:8080")) as session:
        assert session.verify is True
        assert "Authorization" not in session.headers
