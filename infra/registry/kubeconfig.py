"""Reach the Model Registry through the Kubernetes API server, with the stack's own credentials.

The registry's Service is not exposed outside the cluster. The API server's service proxy
(``/api/v1/namespaces/<ns>/services/<svc>:<port>/proxy/...``) reaches it with the same
credentials the stack already uses for the cluster, so ``pulumi up`` from CI needs no
port-forward. This module turns a kubeconfig (as text, the way a Pulumi output holds it) into
those credentials, including exec credential plugins (how EKS and GKE kubeconfigs
authenticate), and opens a ``requests`` session that uses them.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import requests

from infra.kubeconfig import KubeconfigError, named, names, parse

__all__ = [
    "API_PREFIX",
    "DEFAULT_NAMESPACE",
    "DEFAULT_PORT",
    "DEFAULT_SERVICE",
    "ClusterCredentials",
    "KubeconfigError",
    "RegistryEndpoint",
    "direct_endpoint",
    "endpoint_from_kubeconfig",
    "load_kubeconfig",
    "open_session",
    "service_proxy_url",
]

API_PREFIX = "/api/model_registry/v1alpha3"
DEFAULT_NAMESPACE = "kubeflow"
DEFAULT_SERVICE = "model-registry-service"
DEFAULT_PORT = 8080
EXEC_API_VERSION = "client.authentication.k8s.io/v1"


@dataclass(frozen=True)
class ClusterCredentials:
    """How to talk to one API server: its URL, the CA to trust and who we are.

    Attributes:
        server: API server URL, e.g. ``https://1.2.3.4:6443``.
        ca_data: PEM bytes of the CA bundle, or None for the system trust store.
        insecure_skip_tls_verify: Do not verify the server certificate.
        client_cert_data: PEM bytes of the client certificate (mutual TLS).
        client_key_data: PEM bytes of the client key.
        token: Bearer token (static, from a token file, or from an exec plugin).

    """

    server: str
    ca_data: bytes | None = field(default=None, repr=False)
    insecure_skip_tls_verify: bool = False
    client_cert_data: bytes | None = field(default=None, repr=False)
    client_key_data: bytes | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RegistryEndpoint:
    """Where the registry API lives and which credentials reach it.

    Attributes:
        api_url: Base URL of the REST API, ending in ``/api/model_registry/v1alpha3``.
        credentials: TLS and auth settings; None means plain requests with system CAs.

    """

    api_url: str
    credentials: ClusterCredentials | None = None


def service_proxy_url(
    server: str,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    service: str = DEFAULT_SERVICE,
    port: int | str = DEFAULT_PORT,
) -> str:
    """Return the registry API base URL through the API server's service proxy.

    Args:
        server: API server URL from the kubeconfig.
        namespace: Namespace of the registry Service.
        service: Name of the registry Service.
        port: Service port number or name.

    Returns:
        ``{server}/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy`` followed by
        the registry's API prefix.

    """
    ns, svc = quote(namespace, safe=""), quote(service, safe="")
    root = server.rstrip("/")
    return f"{root}/api/v1/namespaces/{ns}/services/{svc}:{port}/proxy{API_PREFIX}"


def direct_endpoint(base_url: str, *, token: str | None = None) -> RegistryEndpoint:
    """Return an endpoint for a registry reached directly (port-forward, ingress, tests).

    Args:
        base_url: The registry's root URL (``http://localhost:8080``) or its API base URL.
        token: Optional bearer token.

    Returns:
        The endpoint, with the API prefix appended when ``base_url`` lacks it.

    """
    parsed = urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise KubeconfigError(f"registry base_url {base_url!r} is not an http(s) URL")
    url = base_url.rstrip("/")
    if not url.endswith(API_PREFIX):
        url += API_PREFIX
    creds = ClusterCredentials(server=url, token=token) if token else None
    return RegistryEndpoint(api_url=url, credentials=creds)


def endpoint_from_kubeconfig(
    kubeconfig: str,
    *,
    context: str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    service: str = DEFAULT_SERVICE,
    port: int | str = DEFAULT_PORT,
    base_dir: Path | None = None,
) -> RegistryEndpoint:
    """Return an endpoint that reaches the registry through the cluster's service proxy.

    Args:
        kubeconfig: Kubeconfig YAML text.
        context: Context to use; the kubeconfig's current-context when None.
        namespace: Namespace of the registry Service.
        service: Name of the registry Service.
        port: Service port number or name.
        base_dir: Directory that relative file paths in the kubeconfig are relative to.

    Returns:
        The service-proxy endpoint with the context's credentials.

    """
    creds = load_kubeconfig(kubeconfig, context=context, base_dir=base_dir)
    url = service_proxy_url(creds.server, namespace=namespace, service=service, port=port)
    return RegistryEndpoint(api_url=url, credentials=creds)


def load_kubeconfig(
    content: str,
    *,
    context: str | None = None,
    base_dir: Path | None = None,
    exec_timeout: float = 60.0,
) -> ClusterCredentials:
    """Resolve one context of a kubeconfig into credentials, running its exec plugin if any.

    Args:
        content: Kubeconfig YAML text.
        context: Context name; the kubeconfig's ``current-context`` when None.
        base_dir: Directory for relative paths (certificate files, token files, exec command).
        exec_timeout: Seconds an exec credential plugin may run.

    Returns:
        Credentials for the context's cluster and user.

    Raises:
        KubeconfigError: Malformed YAML, unknown context/cluster/user, unreadable files,
            an unsupported auth provider, or a failing exec plugin.

    """
    config = parse(content)
    base = base_dir or Path.cwd()
    ctx_name = context or config.get("current-context")
    if not ctx_name:
        raise KubeconfigError(
            "kubeconfig has no current-context and no context was given; "
            f"contexts: {names(config, 'contexts')}"
        )
    ctx = named(config, "contexts", str(ctx_name), "context")
    cluster = named(config, "clusters", ctx.get("cluster"), "cluster", owner=ctx_name)
    user = named(config, "users", ctx["user"], "user", owner=ctx_name) if ctx.get("user") else {}
    server = cluster.get("server")
    if not server:
        raise KubeconfigError(f"cluster {ctx.get('cluster')!r} has no server")
    creds = ClusterCredentials(
        server=str(server),
        ca_data=_data_or_file(cluster, "certificate-authority", base),
        insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify", False)),
    )
    return _with_user(creds, user, name=str(ctx.get("user")), base=base, timeout=exec_timeout)


def _data_or_file(entry: Mapping[str, Any], key: str, base: Path) -> bytes | None:
    data = entry.get(f"{key}-data")
    if data:
        try:
            return base64.b64decode(str(data), validate=True)
        except (binascii.Error, ValueError):
            raise KubeconfigError(f"{key}-data is not valid base64") from None
    path = entry.get(key)
    if not path:
        return None
    return _read(base / Path(str(path)).expanduser(), what=key)


def _read(path: Path, *, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KubeconfigError(f"cannot read {what} file {path}: {exc.strerror}") from None


def _with_user(
    creds: ClusterCredentials, user: Mapping[str, Any], *, name: str, base: Path, timeout: float
) -> ClusterCredentials:
    if "auth-provider" in user:
        raise KubeconfigError(
            f"user {name!r} uses the removed auth-provider mechanism; "
            "use an exec plugin (e.g. gke-gcloud-auth-plugin, aws eks get-token)"
        )
    cert = _data_or_file(user, "client-certificate", base)
    key = _data_or_file(user, "client-key", base)
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = _read(base / str(user["tokenFile"]), what="tokenFile").decode().strip()
    if user.get("exec"):
        status = _run_exec(user["exec"], creds=creds, user=name, base=base, timeout=timeout)
        token = status.get("token") or token
        if status.get("clientCertificateData"):
            cert = str(status["clientCertificateData"]).encode()
            key = str(status.get("clientKeyData", "")).encode()
    if bool(cert) != bool(key):
        raise KubeconfigError(f"user {name!r} has a client certificate without a key or vice versa")
    return ClusterCredentials(
        server=creds.server,
        ca_data=creds.ca_data,
        insecure_skip_tls_verify=creds.insecure_skip_tls_verify,
        client_cert_data=cert or None,
        client_key_data=key or None,
        token=str(token) if token else None,
    )


def _exec_command(spec: Mapping[str, Any], *, user: str, base: Path) -> list[str]:
    command = spec.get("command")
    if not command:
        raise KubeconfigError(f"user {user!r}: exec plugin has no command")
    command = str(command)
    # kubectl resolves a command with a path separator relative to the kubeconfig's directory.
    if os.sep in command and not os.path.isabs(command):
        command = str(base / command)
    return [command, *(str(a) for a in spec.get("args") or [])]


def _exec_env(spec: Mapping[str, Any], creds: ClusterCredentials) -> dict[str, str]:
    info: dict[str, Any] = {
        "apiVersion": spec.get("apiVersion", EXEC_API_VERSION),
        "kind": "ExecCredential",
        "spec": {"interactive": False},
    }
    if spec.get("provideClusterInfo"):
        cluster: dict[str, Any] = {"server": creds.server}
        if creds.ca_data:
            cluster["certificate-authority-data"] = base64.b64encode(creds.ca_data).decode()
        info["spec"]["cluster"] = cluster
    env = dict(os.environ)
    env.update({str(e["name"]): str(e["value"]) for e in spec.get("env") or []})
    env["KUBERNETES_EXEC_INFO"] = json.dumps(info)
    return env


def _run_exec(
    spec: Mapping[str, Any], *, creds: ClusterCredentials, user: str, base: Path, timeout: float
) -> dict[str, Any]:
    argv = _exec_command(spec, user=user, base=base)
    hint = f" ({spec['installHint'].strip()})" if spec.get("installHint") else ""
    try:
        # The kubeconfig's own plugin, run as kubectl runs it.
        done = subprocess.run(
            argv,
            env=_exec_env(spec, creds),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise KubeconfigError(f"user {user!r}: exec plugin {argv[0]!r} not found{hint}") from None
    except subprocess.TimeoutExpired:
        raise KubeconfigError(f"user {user!r}: exec plugin {argv[0]!r} timed out") from None
    if done.returncode != 0:
        raise KubeconfigError(
            f"user {user!r}: exec plugin {argv[0]!r} exited {done.returncode}: "
            f"{done.stderr.strip()[-500:]}"
        )
    return _exec_status(done.stdout, user=user, command=argv[0])


def _exec_status(stdout: str, *, user: str, command: str) -> dict[str, Any]:
    try:
        cred = json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise KubeconfigError(
            f"user {user!r}: exec plugin {command!r} did not print JSON: {exc}"
        ) from None
    status = cred.get("status") if isinstance(cred, dict) else None
    if not isinstance(cred, dict) or cred.get("kind") != "ExecCredential" or not status:
        raise KubeconfigError(
            f"user {user!r}: exec plugin {command!r} did not print an ExecCredential with a status"
        )
    if not status.get("token") and not status.get("clientCertificateData"):
        raise KubeconfigError(
            f"user {user!r}: ExecCredential from {command!r} has neither token nor certificate"
        )
    return dict(status)


def _write(directory: str, name: str, data: bytes) -> str:
    path = Path(directory) / name
    path.touch(mode=0o600)
    path.write_bytes(data)
    return str(path)


@contextmanager
def open_session(endpoint: RegistryEndpoint) -> Iterator[requests.Session]:
    """Open a ``requests`` session configured with the endpoint's TLS and auth settings.

    Certificates and keys go to a private temporary directory that is removed on exit, even
    when the body raises.

    Args:
        endpoint: Where the registry lives and the credentials to reach it.

    Yields:
        The configured session.

    """
    creds = endpoint.credentials
    with tempfile.TemporaryDirectory(prefix="kfstack-registry-") as tmp, requests.Session() as s:
        if creds is not None:
            if creds.ca_data:
                s.verify = _write(tmp, "ca.crt", creds.ca_data)
            elif creds.insecure_skip_tls_verify:
                s.verify = False
            if creds.client_cert_data and creds.client_key_data:
                cert = _write(tmp, "client.crt", creds.client_cert_data)
                s.cert = (cert, _write(tmp, "client.key", creds.client_key_data))
            if creds.token:
                s.headers["Authorization"] = f"Bearer {creds.token}"
        yield s
