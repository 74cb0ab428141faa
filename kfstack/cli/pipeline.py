"""`kfstack pipeline compile | run-local | dag | run`: the training pipeline from the shell.

Bad input (a missing or invalid CSV, serving release record or spec file, a bad option)
prints one short message and exits 2; a pipeline task failing for another reason exits 1.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kfstack.cli import pipeline_run
from kfstack.cli.frame import (
    BAD_INPUT,
    FAILED,
    Failure,
    Subparsers,
    add_command,
    command_group,
    guard,
    options,
)
from kfstack.cli.ml_options import (
    add_dataset_options,
    add_source_options,
    add_training_options,
    dataset_spec,
    train_config,
)
from kfstack.cli.pipeline_params import add_gate_options, gate_options, pipeline_arguments

#: The task whose failure means the input data is bad.
INPUT_TASK = "ingest-validate"


def register(subparsers: Subparsers) -> None:
    """Add the `pipeline` command group: `compile`, `run-local`, `dag` and `run`."""
    commands = command_group(subparsers, "pipeline", "compile, run locally or draw the pipeline")

    comp = add_command(commands, "compile", "compile the training pipeline to IR YAML")
    comp.add_argument("--out", type=Path, required=True, help="YAML file to write")
    comp.add_argument(
        "--image",
        metavar="REF@sha256:DIGEST",
        help="component image by digest (default: the one recorded for this version)",
    )
    comp.set_defaults(handler=guard(_compile))

    run = add_command(
        commands, "run-local", "run the whole pipeline with kfp.local (no cluster, no network)"
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
    run.set_defaults(handler=guard(_run_local, _task_failures))

    dag = add_command(commands, "dag", "draw a compiled pipeline's DAG (SVG or Mermaid)")
    dag.add_argument("--spec", type=Path, required=True, help="compiled pipeline YAML")
    dag.add_argument("--out", type=Path, required=True, help=".svg, .mmd or .md file to write")
    dag.add_argument("--format", choices=["svg", "mermaid"], help="default: from --out's suffix")
    dag.set_defaults(handler=guard(_dag))

    pipeline_run.register_run(commands)  # `pipeline run --host URL`


def _task_failures() -> Iterator[Failure]:
    """A failed task: bad input when it is the one that reads the data."""
    from ml.pipelines.local import PipelineFailedError

    def status(err: BaseException) -> int:
        return BAD_INPUT if getattr(err, "task", None) == INPUT_TASK else FAILED

    yield Failure(PipelineFailedError, status)


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
        **options(args, "serving_release", "version", "storage_uri"),
        model_name=args.name,
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
