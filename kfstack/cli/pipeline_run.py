"""`kfstack pipeline run --host URL`: the training pipeline on a cluster, followed to its end.

Exit status: 0 when the run succeeds, 1 when it fails, is canceled or the API refuses or
cannot be reached, 2 for bad input (options, files, parameters, an image without digest).
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kfstack.atomic import write_text_atomic
from kfstack.cli.frame import FAILED, Failure, Handler, Subparsers, add_command, options
from kfstack.cli.frame import guard as guarded
from kfstack.cli.output import console


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    """The options that say where the KFP API is and how to authenticate."""
    parser.add_argument(
        "--host", required=True, metavar="URL", help="KFP API base URL (http(s)://...)"
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        metavar="PATH",
        help="bearer token file (default: $KF_PIPELINES_SA_TOKEN_PATH when set)",
    )
    parser.add_argument(
        "--kubeconfig", type=Path, metavar="PATH", help="use this kubeconfig user's token"
    )
    parser.add_argument("--namespace", help="profile namespace (multi-user Kubeflow)")
    parser.add_argument(
        "--insecure", action="store_true", help="do not verify the server's TLS certificate"
    )


def connection(args: argparse.Namespace) -> Any:
    """The `Connection` the connection options describe."""
    from ml.pipelines.remote import Connection

    names = ("host", "token_file", "kubeconfig", "namespace")
    return Connection(**options(args, *names), verify_ssl=not args.insecure)


def register_run(commands: Subparsers) -> None:
    """Add `pipeline run` to the `pipeline` command group."""
    run = add_command(
        commands,
        "run",
        "run the training pipeline on a cluster (KFP API) and follow it",
        description="Upload the compiled pipeline (a version per spec digest, reused when "
        "unchanged), start a run and follow it until it ends.",
    )
    add_connection_args(run)
    source = run.add_mutually_exclusive_group()
    source.add_argument("--spec", type=Path, help="compiled pipeline YAML (default: compile now)")
    source.add_argument(
        "--image", metavar="REF@sha256:DIGEST", help="compile on this image (default: recorded)"
    )
    run.add_argument("--csv-uri", required=True, help="source CSV (s3://, minio://, gs://)")
    run.add_argument("--label", required=True, help="the label column")
    run.add_argument("--name", required=True, help="model name (registry, InferenceService)")
    run.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another pipeline parameter, e.g. epochs=30 (repeatable)",
    )
    run.add_argument(
        "--serving-release", type=Path, metavar="PATH", help="release record serving now"
    )
    run.add_argument("--experiment", default="kfstack", help="experiment (default: kfstack)")
    run.add_argument("--run-name", help="run name (default: <model>-<UTC time>)")
    run.add_argument("--service-account", help="Kubernetes ServiceAccount of the run's pods")
    run.add_argument("--no-follow", action="store_true", help="start the run and return")
    run.add_argument(
        "--run-id-file",
        type=Path,
        metavar="FILE",
        help="write the run's id here once it starts (for `release fetch --run`)",
    )
    run.add_argument("--poll", type=float, default=5.0, metavar="SECONDS", help="default: 5")
    run.add_argument("--timeout", type=float, metavar="SECONDS", help="stop following after")
    run.set_defaults(handler=guard(_run))


def guard(handler: Handler) -> Handler:
    """`handler` whose API, store and run failures (RuntimeError) exit 1, bad input 2."""
    return guarded(handler, lambda: [Failure(RuntimeError, FAILED)])


def _parameters(args: argparse.Namespace) -> dict[str, Any]:
    given: dict[str, Any] = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--param {item!r}: give KEY=VALUE")
        given[key.strip()] = value
    given.update({"csv_uri": args.csv_uri, "model_name": args.name})
    given.setdefault("dataset_spec", {"label": args.label})  # ml.data.schema.DatasetSpec as JSON
    if args.serving_release is not None:
        from ml.model_release import load_release

        given["serving_metrics"] = load_release(args.serving_release).model_dump_json()
    return given


def _load_spec(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    import yaml

    if args.spec is not None:
        if not args.spec.is_file():
            raise FileNotFoundError(f"{args.spec}: compiled pipeline not found")
        path = args.spec
    else:
        from ml.pipelines.image_lock import compile_by_digest

        path, image = compile_by_digest(workdir / "pipeline.yaml", args.image)
        console().print(f"compiled the pipeline on {image}")
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(spec, dict) or "pipelineInfo" not in spec:
        raise ValueError(f"{path}: not a compiled KFP pipeline (no pipelineInfo)")
    _check_by_digest(spec, path)
    return spec


def _check_by_digest(spec: dict[str, Any], path: Path) -> None:
    """Refuse a spec whose executors name an image by tag: the cluster would pull a guess."""
    from ml.pipelines.image_lock import ImageError, check_digest_ref, executor_images

    tagged = []
    for name, image in sorted(executor_images(spec).items()):
        try:
            check_digest_ref(image)
        except ImageError:
            tagged.append(f"{name} ({image})")
    if tagged:
        raise ValueError(
            f"{path}: executors not on an image by digest: {', '.join(tagged)}; compile with "
            "kfstack pipeline compile --image REF@sha256:<digest>"
        )


def _show(run: Any, seen: dict[str, str]) -> None:
    from ml.pipelines.remote import task_states

    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    changed = {k: v for k, v in task_states(run).items() if seen.get(k) != v}
    seen.update(changed)
    tasks = ", ".join(f"{name} {state}" for name, state in sorted(changed.items()))
    console().print(f"[{stamp}] run {run.state}" + (f": {tasks}" if tasks else ""))


def _run(args: argparse.Namespace) -> int:
    from ml.pipelines import remote

    conn = connection(args)
    if args.poll < 0 or (args.timeout is not None and args.timeout <= 0):
        raise ValueError("--poll must be >= 0 and --timeout > 0")
    with tempfile.TemporaryDirectory(prefix="kfstack-run-") as tmp:
        spec = _load_spec(args, Path(tmp))
    parameters = remote.coerce_parameters(spec, _parameters(args))
    client = remote.api_client(conn)
    with remote.calling(conn.host, "upload the pipeline"):
        pipeline_id, version_id, reused = remote.ensure_pipeline_version(
            client, spec, namespace=conn.namespace
        )
    console().print(f"pipeline version {version_id} ({'reused' if reused else 'uploaded'})")
    with remote.calling(conn.host, "start the run"):
        experiment_id = remote.ensure_experiment(client, args.experiment, namespace=conn.namespace)
        run_name = args.run_name or f"{args.name}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
        run_id = remote.start_run(
            client,
            experiment_id=experiment_id,
            pipeline_id=pipeline_id,
            version_id=version_id,
            name=run_name,
            parameters=parameters,
            service_account=args.service_account,
        )
    console().print(f"run {run_id} started: {conn.host.rstrip('/')}/#/runs/details/{run_id}")
    if args.run_id_file is not None:
        write_text_atomic(args.run_id_file, f"{run_id}\n")
    if args.no_follow:
        return 0
    seen: dict[str, str] = {}
    what = f"follow run {run_id} (it may still be running: see the KFP UI)"
    with remote.calling(conn.host, what):
        final = remote.follow_run(
            client,
            run_id,
            on_update=lambda run: _show(run, seen),
            poll=args.poll,
            timeout=args.timeout,
        )
    if str(final.state) == "SUCCEEDED":
        console().print(
            f"run {run_id} succeeded; its release record (if promoted): "
            f"kfstack release fetch --host {conn.host} --run {run_id} --out build/release.json "
            "--profile build/profile.json"
        )
        return 0
    if str(final.state) not in remote.TERMINAL:
        message = f"error: run {run_id} still {final.state} after {args.timeout} s"
        console(stderr=True).print(message)
        return FAILED
    console(stderr=True).print(f"error: {remote.failure_message(final)}")
    return FAILED
