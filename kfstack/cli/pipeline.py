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

from kfstack.cli import pipeline_run as remote_cli
from kfstack.cli.ml_options import (
    HelpFormatter,
    add_dataset_options,
    add_source_options,
    add_training_options,
    dataset_spec,
    train_config,
)
from kfstack.cli.pipeline_params import add_gate_options, gate_options, pipeline_arguments

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
        "run-local",
        help="run the whole pipeline with kfp.local (no cluster, no network)",
        formatter_class=HelpFormatter,
    )
    add_source_options(run)
    run.add_argument("--out", type=Path, required=True, help="directory for the results")
    run.add_argument("--name", help="model name (default: from the CSV's file name)")
    add_dataset_options(run)
    add_training_options(run)
    add_gate_options(run)
    release = run.add_argument_group("release")
    release.add_argument(
        "--serving-release", type=Path, metavar="PATH", help="release record of the serving model"
    )
    release.add_argument("--version", help="release version name (default: UTC time)")
    release.add_argument(
        "--storage-uri",
        help="where the model will be served from (default: file://OUT/model)",
    )
    shown = run.add_mutually_exclusive_group()
    shown.add_argument("--verbose", action="store_true", help="print every task's logs")
    shown.add_argument("--quiet", action="store_true", help="print only the results")
    run.set_defaults(handler=_guard(_run_local))

    dag = commands.add_parser("dag", help="draw a compiled pipeline's DAG (SVG or Mermaid)")
    dag.add_argument("--spec", type=Path, required=True, help="compiled pipeline YAML")
    dag.add_argument("--out", type=Path, required=True, help=".svg, .mmd or .md file to write")
    dag.add_argument("--format", choices=["svg", "mermaid"], help="default: from --out's suffix")
    dag.set_defaults(handler=_guard(_dag))

    remote_cli.register_run(commands)  # `pipeline run --host URL` (kfstack.cli.pipeline_run)


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
            from kfstack.cli.output import error_text

            _error(error_text(err))
            return BAD_INPUT

    return run


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _compile(args: argparse.Namespace) -> int:
    from ml.pipelines.image_lock import compile_by_digest

    out, image = compile_by_digest(args.out, args.image)
    print(f"compiled pipeline to {out} (image {image})")
    return 0


def _run_local(args: argparse.Namespace) -> int:
    from kfstack.cli.output import console, metrics_line
    from ml.pipelines.local import run_local

    out = console()
    arguments = pipeline_arguments(dataset_spec(args), train_config(args), gate_options(args))
    progress = _TaskProgress(out) if not (args.quiet or args.verbose) else None
    if progress is not None:
        out.print(f"running the training pipeline on {args.csv} with kfp.local ...")
    result = run_local(
        args.csv,
        args.out,
        arguments,
        model_name=args.name,
        serving_release=args.serving_release,
        version=args.version,
        storage_uri=args.storage_uri,
        echo=args.verbose,
        on_task=progress,
    )
    metrics = json.loads(result.metrics.read_text(encoding="utf-8"))["metrics"]
    out.print(f"results in {result.out}")
    out.print(f"  model (SavedModel):  {result.model}")
    out.print(f"  metrics:             {result.metrics}  {metrics_line(metrics)}")
    out.print(f"  comparison chart:    {result.chart}")
    out.print(f"  decision:            {result.reason}")
    if result.release is not None:
        out.print(f"  release record:      {result.release}")
    else:
        out.print("  release record:      none (the candidate was not promoted)")
    out.print(f"  all task outputs:    {result.run_dir}")
    return 0


class _TaskProgress:
    """One line per pipeline task as it starts and ends, with its time."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.started: dict[str, float] = {}

    def __call__(self, task: str, status: str | None) -> None:
        import time

        from ml.pipelines.training import TASKS

        shown = TASKS.get(task, task)
        if status is None:
            self.started[task] = time.monotonic()
            return
        seconds = time.monotonic() - self.started.get(task, time.monotonic())
        mark = "done" if status == "SUCCESS" else status.lower()
        self.out.print(f"  {shown:<40} {mark} ({seconds:.0f} s)")


def _dag(args: argparse.Namespace) -> int:
    from ml.pipelines.dag import write_dag

    if not args.spec.is_file():
        raise FileNotFoundError(f"{args.spec}: compiled pipeline not found")
    out = write_dag(args.spec, args.out, fmt=args.format)
    print(f"wrote the DAG of {args.spec} to {out}")
    return 0
