"""Run the training pipeline on a laptop with `kfp.local`: no cluster, no network.

Every task runs as a subprocess of this Python (`SubprocessRunner(use_venv=False)`), so the
`ml` package and its dependencies must be installed here, as they are in the component image.
Task outputs land under `<out>/pipeline-root/`; the results are then copied to stable names:

    <out>/model/<version>/   the SavedModel (TF Serving layout)
    <out>/metrics.json       the candidate's metrics on the test split
    <out>/comparison.html    the bar chart of candidate vs serving model and the decision
    <out>/release.json       the release record, only when the candidate was promoted
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

__all__ = ["LocalRun", "PipelineFailedError", "default_model_name", "run_local"]

ROOT_DIR = "pipeline-root"
MODEL_DIR = "model"
METRICS_FILE = "metrics.json"
CHART_FILE = "comparison.html"
RELEASE_FILE = "release.json"
# Unless a storage URI is given, a local run's release record names the model where it is,
# `file://<out>/model`: `kfstack release publish` uploads it and rewrites the URI to s3://.

_ERROR_LINE = re.compile(r"^\s*(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception): ")
_TASK = re.compile(r"Inner task failed: '([^']+)'")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class PipelineFailedError(RuntimeError):
    """A task of a local run failed; the message names the task and its error."""

    def __init__(self, task: str, message: str) -> None:
        self.task = task
        super().__init__(f"pipeline task {task!r} failed: {message}")


@dataclass(frozen=True)
class LocalRun:
    """Where a local run left its results.

    Attributes:
        out: The output directory.
        model: The model export root (`<model>/<version>/` is the SavedModel).
        metrics: Metrics JSON of the candidate.
        chart: HTML comparison chart.
        release: The release record, or None when the candidate was not promoted.
        promoted: Whether the gate released the candidate.
        reason: The comparison's verdict, in words.
        run_dir: The run's directory under the pipeline root (every task's outputs).

    """

    out: Path
    model: Path
    metrics: Path
    chart: Path
    release: Path | None
    promoted: bool
    reason: str
    run_dir: Path


def default_model_name(csv: Path) -> str:
    """A registry-valid model name from a CSV's file name (`My Data.csv` -> `my-data`)."""
    name = re.sub(r"[^a-z0-9]+", "-", Path(csv).stem.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = f"model-{name}".rstrip("-")
    return name[:45].rstrip("-")


def run_local(
    csv: Path,
    label: str,
    out: Path,
    *,
    model_name: str | None = None,
    serving_release: Path | None = None,
    version: str | None = None,
    storage_uri: str | None = None,
    echo: bool = True,
    cache_root: Path | None = None,
    **params: Any,
) -> LocalRun:
    """Run the whole training pipeline with kfp.local and copy its results into `out`.

    Args:
        csv: The source CSV.
        label: The label column.
        out: Output directory (created); the pipeline root is `<out>/pipeline-root`.
        model_name: Model name in the release; default from the CSV's file name.
        serving_release: Release record of the model now serving, to compare with.
        version: Release version name; default the UTC time (`20261128-140501`).
        storage_uri: Storage URI in the release; default the local model, `file://<out>/model`
            (`kfstack release publish` uploads it and rewrites the URI).
        echo: Print the tasks' logs (they are kept to report a failure either way).
        cache_root: Reuse the outputs of tasks run before with the same inputs (kfp.local's
            cache, kept in this directory); None runs every task.
        **params: Other parameters of `training_pipeline` (epochs, metric, threshold ...).

    Raises:
        FileNotFoundError: the CSV does not exist.
        ml.release.ReleaseError: the serving release record is missing or invalid.
        PipelineFailedError: a task failed (the message names the task and its error).

    """
    from ml.release import load_release

    csv, out = Path(csv).resolve(), Path(out).resolve()
    if not csv.is_file():
        raise FileNotFoundError(f"{csv}: CSV not found")
    serving = load_release(serving_release) if serving_release is not None else None
    name = model_name or default_model_name(csv)
    version = version or datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    arguments = {
        "csv_uri": str(csv),
        "label": label,
        "model_name": name,
        "version": version,
        "storage_uri": storage_uri or (out / MODEL_DIR).as_uri(),
        "serving_metrics": serving.model_dump_json() if serving is not None else "",
        **{k: v for k, v in params.items() if v is not None},  # kfp: None is "not given"
    }
    root = out / ROOT_DIR
    root.mkdir(parents=True, exist_ok=True)
    earlier = set(root.iterdir())
    outputs = _run(arguments, root, echo=echo, cache_root=cache_root)
    # Cached tasks' outputs stay in the run that made them: find this run's own directory.
    run_dir = max(set(root.iterdir()) - earlier, key=lambda p: p.stat().st_mtime)
    return _collect(outputs, out, run_dir)


def _run(
    arguments: dict[str, Any], root: Path, *, echo: bool, cache_root: Path | None
) -> dict[str, Any]:
    from kfp import local

    from ml.pipelines.training import training_pipeline

    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(root),
        raise_on_error=True,
        enable_caching=cache_root is not None,
        cache_root=str(cache_root) if cache_root is not None else None,
    )
    log = _Tee(sys.stdout if echo else None)
    try:
        with _quiet_kfp_warnings(), contextlib.redirect_stdout(log):
            task = training_pipeline(**arguments)
    except RuntimeError as err:
        raise _failure(str(err), log.getvalue()) from None
    return dict(task.outputs)


@contextlib.contextmanager
def _quiet_kfp_warnings() -> Iterator[None]:
    """Silence kfp.local's notes that do not apply (custom image, display names)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"kfp\.local\..*")
        yield


class _Tee(io.StringIO):
    """Keep what is written and pass it on to `stream` (if any)."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:
        if self.stream is not None:
            self.stream.write(text)
        return super().write(text)


def _failure(message: str, log: str) -> PipelineFailedError:
    """Name the failed task and its error, from kfp's message and the task's log."""
    message = _ANSI.sub("", message)
    found = _TASK.search(message)
    task = found.group(1) if found else "?"
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines) if _ERROR_LINE.match(line)]
    if not starts:
        return PipelineFailedError(task, message)
    block = [lines[starts[-1]].strip()]
    for line in lines[starts[-1] + 1 :]:
        if not line.strip() or line.lstrip().startswith(("[KFP", "Traceback")):
            break
        block.append(line.rstrip())
    return PipelineFailedError(task, "\n".join(block))


def _collect(outputs: dict[str, Any], out: Path, run_dir: Path) -> LocalRun:
    model_root = Path(outputs["model"].path)
    model = out / MODEL_DIR
    shutil.rmtree(model, ignore_errors=True)
    shutil.copytree(model_root, model)
    metrics = out / METRICS_FILE
    shutil.copyfile(outputs["metrics"].path, metrics)
    chart = out / CHART_FILE
    shutil.copyfile(outputs["comparison"].path, chart)
    released = run_dir / "write-release" / "release"
    target = out / RELEASE_FILE
    target.unlink(missing_ok=True)  # never leave the record of an earlier run behind
    release = None
    if bool(outputs["promote"]) and released.is_file():
        release = Path(shutil.copyfile(released, target))
    reason = str(outputs["comparison"].metadata.get("reason", ""))
    return LocalRun(
        out=out,
        model=model,
        metrics=metrics,
        chart=chart,
        release=release,
        promoted=release is not None,
        reason=reason,
        run_dir=run_dir,
    )
