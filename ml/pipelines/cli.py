"""`kfstack pipeline compile | run-local | dag`: the training pipeline from the command line.

Handlers import kfp and TensorFlow themselves, so `kfstack --help` stays fast. Bad input (a
missing or invalid CSV, serving release record or spec file, a bad option) prints one short
message and exits 2; a pipeline task failing for another reason exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ml.pipelines import remote_cli

#: Exit status for bad input (file, CSV content, options).
BAD_INPUT = 2
#: Exit status when a pipeline task fails for another reason than its input.
FAILED = 1
#: The task whose failure means the input data is bad.
INPUT_TASK = "ingest-validate"

Handler = Callable[[argparse.Namespace], int]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `pipeline` command group: `compile`, `run-local` and `dag`."""
    pipeline = subparsers.add_parser("pipeline", help="compile, run locally or draw the pipeline")
    commands = pipeline.add_subparsers(dest="pipeline_command", required=True, metavar="COMMAND")

    comp = commands.add_parser("compile", help="compile the training pipeline to IR YAML")
    comp.add_argument("--out", type=Path, required=True, help="YAML file to write")
    comp.add_argument(
        "--image",
        metavar="REF@sha256:DIGEST",
        help="component image by digest (default: the one recorded for this version)",
    )
    comp.set_defaults(handler=_guard(_compile))

    run = commands.add_parser(
        "run-local", help="run the whole pipeline with kfp.local (no cluster, no network)"
    )
    run.add_argument("--csv", type=Path, required=True)
    run.add_argument("--label", required=True, help="the label column")
    run.add_argument("--out", type=Path, required=True, help="directory for the results")
    run.add_argument("--name", help="model name (default: from the CSV's file name)")
    run.add_argument("--numeric", nargs="+", default=[], metavar="COL")
    run.add_argument("--categorical", nargs="+", default=[], metavar="COL")
    run.add_argument("--ignore", nargs="+", default=[], metavar="COL")
    run.add_argument("--task", choices=["classification", "regression"], default="")
    run.add_argument("--epochs", type=int, default=20)
    run.add_argument("--batch-size", type=int, default=256)
    run.add_argument("--learning-rate", type=float, default=1e-3)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--metric", default="loss", help="metric the gate decides on")
    run.add_argument("--threshold", type=float, help="bound the metric must pass")
    run.add_argument("--direction", choices=["auto", "maximize", "minimize"], default="auto")
    run.add_argument(
        "--serving-release", type=Path, metavar="PATH", help="release record of the serving model"
    )
    run.add_argument("--version", help="release version name (default: UTC time)")
    run.add_argument("--storage-uri", help="where the model will be served from (release record)")
    run.add_argument("--quiet", action="store_true", help="do not print the tasks' logs")
    run.set_defaults(handler=_guard(_run_local))

    dag = commands.add_parser("dag", help="draw a compiled pipeline's DAG (SVG or Mermaid)")
    dag.add_argument("--spec", type=Path, required=True, help="compiled pipeline YAML")
    dag.add_argument("--out", type=Path, required=True, help=".svg, .mmd or .md file to write")
    dag.add_argument("--format", choices=["svg", "mermaid"], help="default: from --out's suffix")
    dag.set_defaults(handler=_guard(_dag))

    remote_cli.register_run(commands)  # `pipeline run --host URL` (ml.pipelines.remote_cli)


def _guard(handler: Handler) -> Handler:
    """Run `handler`; report bad input in one message (no traceback) and return 2."""

    def run(args: argparse.Namespace) -> int:
        from ml.pipelines.local import PipelineFailedError

        try:
            return handler(args)
        except PipelineFailedError as err:
            _error(str(err))
            return BAD_INPUT if err.task == INPUT_TASK else FAILED
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, ValueError) as err:
            _error(str(err))
            return BAD_INPUT

    return run


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _compile(args: argparse.Namespace) -> int:
    from ml.pipelines.image_lock import compile_by_digest

    out, image = compile_by_digest(args.out, args.image)
    print(f"compiled pipeline to {out} (image {image})")
    return 0


def _kinds(args: argparse.Namespace) -> dict[str, str]:
    declared = [(c, "numeric") for c in args.numeric] + [
        (c, "categorical") for c in args.categorical
    ]
    declared += [(c, "ignore") for c in args.ignore]
    twice = sorted({c for c, _ in declared if sum(1 for d, _ in declared if d == c) > 1})
    if twice:
        raise ValueError(f"columns given more than one kind: {', '.join(twice)}")
    return dict(declared)


def _run_local(args: argparse.Namespace) -> int:
    from ml.pipelines.local import run_local

    if args.epochs < 1 or args.batch_size < 1:
        raise ValueError("--epochs and --batch-size must be positive")
    params: dict[str, Any] = {
        "column_kinds": _kinds(args),
        "task": args.task,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "seed": args.seed,
        "metric": args.metric,
        "threshold": "" if args.threshold is None else repr(args.threshold),
        "direction": args.direction,
    }
    result = run_local(
        args.csv,
        args.label,
        args.out,
        model_name=args.name,
        serving_release=args.serving_release,
        version=args.version,
        storage_uri=args.storage_uri,
        echo=not args.quiet,
        **params,
    )
    metrics = json.loads(result.metrics.read_text(encoding="utf-8"))["metrics"]
    print(f"\nresults in {result.out}")
    print(f"  model (SavedModel):  {result.model}")
    print(f"  metrics:             {result.metrics}  " + _fmt(metrics))
    print(f"  comparison chart:    {result.chart}")
    print(f"  decision:            {result.reason}")
    if result.release is not None:
        print(f"  release record:      {result.release}")
    else:
        print("  release record:      none (the candidate was not promoted)")
    print(f"  all task outputs:    {result.run_dir}")
    return 0


def _fmt(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if k != "rows")


def _dag(args: argparse.Namespace) -> int:
    from ml.pipelines.dag import write_dag

    if not args.spec.is_file():
        raise FileNotFoundError(f"{args.spec}: compiled pipeline not found")
    out = write_dag(args.spec, args.out, fmt=args.format)
    print(f"wrote the DAG of {args.spec} to {out}")
    return 0
