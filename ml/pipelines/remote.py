"""Run the compiled training pipeline on a cluster through the KFP v2beta1 API.

The generated kfp client (`kfp_server_api`, shipped with kfp) talks to the host given:
the pipeline is created once, a version is uploaded once per compiled spec (its name carries
the spec's digest, so an unchanged spec reuses the version), then a run starts in an
experiment and is followed until it ends.

Auth, as the kfp client supports it: a bearer token read from a file (``--token-file`` or
``KF_PIPELINES_SA_TOKEN_PATH``, re-read on every call), the static token of a kubeconfig
user, or the session cookie `kfp` keeps in ``~/.config/kfp/context.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

__all__ = [
    "TERMINAL",
    "Connection",
    "RemoteError",
    "api_client",
    "coerce_parameters",
    "ensure_experiment",
    "ensure_pipeline_version",
    "failure_message",
    "follow_run",
    "get_run",
    "kubeconfig_token",
    "start_run",
    "task_states",
    "version_name",
]

#: Run states after which nothing changes any more.
TERMINAL: Final = frozenset({"SUCCEEDED", "SKIPPED", "FAILED", "CANCELED"})
TOKEN_ENV: Final = "KF_PIPELINES_SA_TOKEN_PATH"
KFP_CONTEXT: Final = Path("~/.config/kfp/context.json")


class RemoteError(RuntimeError):
    """A KFP API call that failed; the message names the host and what to check."""


@dataclass(frozen=True)
class Connection:
    """Where the KFP API is and how to authenticate.

    Attributes:
        host: Base URL of the KFP API (``http://localhost:8080`` behind a port-forward, or
            the Kubeflow gateway ``https://kubeflow.example.com/pipeline``).
        token_file: A file holding a bearer token (e.g. from ``kubectl create token``).
        kubeconfig: A kubeconfig whose current user has a static ``token``.
        namespace: The profile namespace of a multi-user Kubeflow; None for single-user.
        verify_ssl: Check the server's TLS certificate.

    """

    host: str
    token_file: Path | None = None
    kubeconfig: Path | None = None
    namespace: str | None = None
    verify_ssl: bool = True


def kubeconfig_token(path: Path, context: str | None = None) -> str | None:
    """The static bearer token of a kubeconfig's (current) context user, if it has one."""
    try:
        config: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RemoteError(f"{path}: cannot read kubeconfig: {exc}") from None
    if not isinstance(config, dict):
        raise RemoteError(f"{path}: not a kubeconfig")
    name = context or config.get("current-context")
    ctx = next((c for c in config.get("contexts") or [] if c.get("name") == name), None)
    if ctx is None:
        raise RemoteError(f"{path}: no context {name!r}")
    user_name = (ctx.get("context") or {}).get("user")
    user: dict[str, Any] = next(
        (u for u in config.get("users") or [] if u.get("name") == user_name), {}
    )
    spec = user.get("user") or {}
    if spec.get("token"):
        return str(spec["token"])
    if spec.get("tokenFile"):
        return Path(spec["tokenFile"]).read_text(encoding="utf-8").strip()
    return None


def _session_cookie() -> str | None:
    path = KFP_CONTEXT.expanduser()
    if not path.is_file():
        return None
    try:
        cookie = json.loads(path.read_text(encoding="utf-8")).get("client_authentication_cookie")
    except (OSError, json.JSONDecodeError, AttributeError):
        return None
    return str(cookie) if cookie else None


def api_client(conn: Connection) -> Any:
    """A `kfp_server_api.ApiClient` for `conn` (token file, kubeconfig token or session).

    Raises:
        RemoteError: the host is not an http(s) URL, or the kubeconfig cannot be read.

    """
    import kfp_server_api
    from kfp.client.set_volume_credentials import ServiceAccountTokenVolumeCredentials

    if not conn.host.startswith(("http://", "https://")):
        raise RemoteError(f"--host {conn.host!r}: give an http:// or https:// URL")
    config = kfp_server_api.Configuration(host=conn.host.rstrip("/"))
    config.verify_ssl = conn.verify_ssl
    token_file = conn.token_file or (Path(os.environ[TOKEN_ENV]) if os.getenv(TOKEN_ENV) else None)
    if token_file is not None:
        if not token_file.is_file():
            raise RemoteError(f"{token_file}: token file not found")
        credentials = ServiceAccountTokenVolumeCredentials(str(token_file))
        config.api_key["authorization"] = "placeholder"
        config.api_key_prefix["authorization"] = "Bearer"
        config.refresh_api_key_hook = credentials.refresh_api_key_hook
    elif conn.kubeconfig is not None:
        token = kubeconfig_token(conn.kubeconfig)
        if token is None:
            raise RemoteError(
                f"{conn.kubeconfig}: its user has no static token (client certificates or "
                "exec plugins do not reach KFP): give --token-file with a token from "
                "`kubectl create token`"
            )
        config.api_key["authorization"] = token
        config.api_key_prefix["authorization"] = "Bearer"
    # Connection errors must surface at once, not after urllib3's default retries.
    config.retries = 1
    return kfp_server_api.ApiClient(config, cookie=_session_cookie())


@contextmanager
def calling(host: str, what: str) -> Iterator[None]:
    """Turn API and network failures of `what` into one `RemoteError` naming the host."""
    import urllib3
    from kfp_server_api.exceptions import ApiException

    try:
        yield
    except ApiException as exc:
        raise RemoteError(_api_message(host, what, exc)) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise RemoteError(
            f"cannot reach the KFP API at {host} ({what}): {reason}; check --host "
            "(e.g. kubectl port-forward -n kubeflow svc/ml-pipeline 8888:8888, then "
            "--host http://localhost:8888)"
        ) from None


def _api_message(host: str, what: str, exc: Any) -> str:
    status = getattr(exc, "status", None)
    detail = ""
    try:
        body = json.loads(exc.body or "{}")
        detail = body.get("message") or body.get("error") or ""
    except (TypeError, ValueError, AttributeError):
        detail = str(exc.body or "")[:200]
    hint = {
        401: "not authenticated: give --token-file or --kubeconfig with a token",
        403: "forbidden: the token's identity has no access (check the profile namespace)",
        404: "not found",
    }.get(status or 0, f"HTTP {status}")
    return f"KFP API at {host}: {what}: {hint}" + (f" ({detail})" if detail else "")


def _display_filter(name: str) -> str:
    predicate = {"operation": "EQUALS", "key": "display_name", "string_value": name}
    return json.dumps({"predicates": [predicate]})


def version_name(pipeline: str, spec: Mapping[str, Any]) -> str:
    """The version name of a compiled spec: the pipeline name and the spec's digest."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()
    return f"{pipeline}-{hashlib.sha256(canonical).hexdigest()[:16]}"


def ensure_pipeline_version(
    client: Any, spec: Mapping[str, Any], *, namespace: str | None = None
) -> tuple[str, str, bool]:
    """Create the pipeline and this spec's version unless they exist.

    Returns:
        The pipeline id, the version id, and whether the version existed already.

    """
    import kfp_server_api

    api = kfp_server_api.PipelineServiceApi(client)
    name = spec["pipelineInfo"]["name"]
    kwargs = {"namespace": namespace} if namespace else {}
    found = api.pipeline_service_list_pipelines(filter=_display_filter(name), **kwargs)
    if found.pipelines:
        pipeline_id = found.pipelines[0].pipeline_id
    else:
        body = kfp_server_api.V2beta1Pipeline(
            display_name=name, description=spec["pipelineInfo"].get("description"), **kwargs
        )
        pipeline_id = api.pipeline_service_create_pipeline(pipeline=body).pipeline_id
    version = version_name(name, spec)
    versions = api.pipeline_service_list_pipeline_versions(
        pipeline_id=pipeline_id, filter=_display_filter(version)
    )
    if versions.pipeline_versions:
        return pipeline_id, versions.pipeline_versions[0].pipeline_version_id, True
    body = kfp_server_api.V2beta1PipelineVersion(
        pipeline_id=pipeline_id, display_name=version, pipeline_spec=dict(spec)
    )
    created = api.pipeline_service_create_pipeline_version(
        pipeline_id=pipeline_id, pipeline_version=body
    )
    return pipeline_id, created.pipeline_version_id, False


def ensure_experiment(client: Any, name: str, *, namespace: str | None = None) -> str:
    """The id of the experiment `name`, created if missing."""
    import kfp_server_api

    api = kfp_server_api.ExperimentServiceApi(client)
    kwargs = {"namespace": namespace} if namespace else {}
    found = api.experiment_service_list_experiments(filter=_display_filter(name), **kwargs)
    if found.experiments:
        return str(found.experiments[0].experiment_id)
    body = kfp_server_api.V2beta1Experiment(display_name=name, **kwargs)
    return str(api.experiment_service_create_experiment(experiment=body).experiment_id)


def coerce_parameters(spec: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Check `given` against the spec's pipeline parameters and convert strings to their types.

    Raises:
        ValueError: unknown or missing parameters, or a value of the wrong type (all listed).

    """
    declared = spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    problems = [f"unknown parameter {k!r}" for k in given if k not in declared]
    out: dict[str, Any] = {}
    for key, decl in declared.items():
        if key not in given:
            if "defaultValue" not in decl and not decl.get("isOptional"):
                problems.append(f"missing parameter {key!r}")
            continue
        try:
            out[key] = _coerce(given[key], decl["parameterType"])
        except (TypeError, ValueError):
            problems.append(f"{key}={given[key]!r} is not a {decl['parameterType']}")
    if problems:
        allowed = ", ".join(sorted(declared))
        raise ValueError("; ".join(problems) + f" (the pipeline's parameters: {allowed})")
    return out


def _coerce(value: Any, kind: str) -> Any:
    if not isinstance(value, str):
        return value
    if kind == "NUMBER_INTEGER":
        return int(value)
    if kind == "NUMBER_DOUBLE":
        return float(value)
    if kind == "BOOLEAN":
        if value.lower() not in ("true", "false"):
            raise ValueError(value)
        return value.lower() == "true"
    if kind in ("STRUCT", "LIST"):
        parsed = json.loads(value)
        if not isinstance(parsed, dict if kind == "STRUCT" else list):
            raise ValueError(value)
        return parsed
    return value


def start_run(
    client: Any,
    *,
    experiment_id: str,
    pipeline_id: str,
    version_id: str,
    name: str,
    parameters: Mapping[str, Any],
    service_account: str | None = None,
) -> str:
    """Start a run of a pipeline version; return its id."""
    import kfp_server_api

    run = kfp_server_api.V2beta1Run(
        display_name=name,
        experiment_id=experiment_id,
        pipeline_version_reference=kfp_server_api.V2beta1PipelineVersionReference(
            pipeline_id=pipeline_id, pipeline_version_id=version_id
        ),
        runtime_config=kfp_server_api.V2beta1RuntimeConfig(parameters=dict(parameters)),
        service_account=service_account,
    )
    return str(kfp_server_api.RunServiceApi(client).run_service_create_run(run=run).run_id)


def get_run(client: Any, run_id: str) -> Any:
    """The run `run_id` (`V2beta1Run`)."""
    import kfp_server_api

    return kfp_server_api.RunServiceApi(client).run_service_get_run(run_id=run_id)


def task_states(run: Any) -> dict[str, str]:
    """Task name -> state of a run (executor tasks and DAGs as KFP reports them)."""
    details = run.run_details.task_details if run.run_details else None
    return {t.display_name: str(t.state) for t in details or [] if t.display_name}


def failure_message(run: Any) -> str:
    """Why a run did not succeed: its state, its error and its failed tasks."""
    failed = sorted(name for name, state in task_states(run).items() if state == "FAILED")
    text = f"run {run.run_id} {run.state}"
    if run.error is not None and run.error.message:
        text += f": {run.error.message}"
    if failed:
        text += f" (failed tasks: {', '.join(failed)})"
    return text


def _transient(exc: Exception) -> bool:
    """A failure that a later poll may not see: the network, or a 5xx of a proxy or the API."""
    import urllib3
    from kfp_server_api.exceptions import ApiException

    if isinstance(exc, ApiException):
        return (exc.status or 0) >= 500
    return isinstance(exc, (urllib3.exceptions.HTTPError, OSError))


def follow_run(
    client: Any,
    run_id: str,
    *,
    on_update: Callable[[Any], None],
    poll: float = 5.0,
    timeout: float | None = None,
    tolerate: int = 3,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Any:
    """Poll the run until it ends (or `timeout` seconds pass); call `on_update` on changes.

    Up to `tolerate` polls in a row may fail transiently (a port-forward that drops, a 503
    from the gateway) before the error is raised: a training run outlives such hiccups.

    Returns:
        The last `V2beta1Run` read (its state is terminal unless the timeout passed).

    """
    start, last, failures = clock(), None, 0
    while True:
        try:
            run = get_run(client, run_id)
        except Exception as exc:
            failures += 1
            if failures > tolerate or not _transient(exc):
                raise
            sleep(poll)
            continue
        failures = 0
        seen = (str(run.state), tuple(sorted(task_states(run).items())))
        if seen != last:
            on_update(run)
            last = seen
        if str(run.state) in TERMINAL:
            return run
        if timeout is not None and clock() - start >= timeout:
            return run
        sleep(poll)
