"""Run the training pipeline on a laptop with `kfp.local`: no cluster, no network.

Every task runs as a subprocess of this Python (`SubprocessRunner(use_venv=False)`), so the
`ml` package and its dependencies must be installed here, as they are in the component image.
The run happens in a staging directory next to `<out>`; only when it succeeded are its task
outputs moved to `<out>/pipeline-root/` and the results put in place under stable names (a
failed run leaves `<out>` as it was):

    <out>/model/<version>/   the SavedModel (TF Serving layout)
    <out>/metrics.json       the candidate's metrics on the test split
    <out>/comparison.html    the bar chart of candidate vs serving model and the decision
    <out>/release.json       the release record, only when the candidate was promoted
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
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
_STARTED = re.compile(r"Executing task '([^']+)'")
_FINISHED = re.compile(r"Task '([^']+)' finished with status (\w+)")

#: Called with a task name and None when it starts, its status (SUCCESS ...) when it ends.
TaskCallback = Callable[[str, str | None], None]


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
    out: Path,
    arguments: dict[str, Any],
    *,
    model_name: str | None = None,
    serving_release: Path | None = None,
    version: str | None = None,
    storage_uri: str | None = None,
    echo: bool = False,
    on_task: TaskCallback | None = None,
    cache_root: Path | None = None,
) -> LocalRun:
    """Run the whole training pipeline with kfp.local and put its results into `out`.

    No cluster and no network: each task runs in a subprocess of this interpreter.

    Args:
        csv: The source CSV.
        out: Output directory (created); task outputs end up in `<out>/pipeline-root`.
        arguments: Parameters of `training_pipeline`: `dataset_spec` at least, usually all
            of `kfstack.cli.pipeline_params.pipeline_arguments`.
        model_name: Model name in the release; default from the CSV's file name.
        serving_release: Release record of the model now serving, to compare with.
        version: Release version name; default the UTC time (`20261128-140501`).
        storage_uri: Storage URI in the release; default the local model, `file://<out>/model`
            (`kfstack release publish` uploads it and rewrites the URI).
        echo: Print the tasks' logs (they are kept to report a failure either way).
        on_task: Told when each task starts and ends (for a progress display).
        cache_root: Reuse the outputs of tasks run before with the same inputs (kfp.local's
            cache, kept in this directory); None runs every task.

    Raises:
        FileNotFoundError: the CSV does not exist.
        ml.model_release.record.ReleaseError: the serving release record is missing or invalid.
        PipelineFailedError: a task failed (the message names the task and its error).

    """
    from ml.model_release import load_release

    csv, out = Path(csv).resolve(), Path(out).resolve()
    if not csv.is_file():
        raise FileNotFoundError(f"{csv}: CSV not found")
    if "dataset_spec" not in arguments:
        raise ValueError("arguments must hold the dataset_spec (kfstack.cli.pipeline_params)")
    serving = load_release(serving_release) if serving_release is not None else None
    name = model_name or default_model_name(csv)
    version = version or datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    arguments = {
        **{k: v for k, v in arguments.items() if v is not None},  # kfp: None is "not given"
        "csv_uri": str(csv),
        "model_name": name,
        "version": version,
        "storage_uri": storage_uri or (out / MODEL_DIR).as_uri(),
        "serving_metrics": serving.model_dump_json() if serving is not None else "",
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    # With a cache, task outputs must outlive the run (later runs point at them): they are
    # staged under the cache and copied; without one, in a temporary directory and moved.
    if cache_root is not None:
        staging = Path(cache_root) / ROOT_DIR
        staging.mkdir(parents=True, exist_ok=True)
    else:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.run-", dir=out.parent))
    earlier = set(staging.iterdir())
    try:
        outputs = _run(arguments, staging, echo=echo, on_task=on_task, cache_root=cache_root)
        (run_dir,) = set(staging.iterdir()) - earlier
        return _collect(outputs, out, run_dir, keep=cache_root is not None)
    finally:
        if cache_root is None:
            shutil.rmtree(staging, ignore_errors=True)


def _run(
    arguments: dict[str, Any],
    root: Path,
    *,
    echo: bool,
    on_task: TaskCallback | None,
    cache_root: Path | None,
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
    log = _Tee(sys.stdout if echo else None, on_task)
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
    """Keep what is written, pass it on to `stream` (if any), report task starts and ends."""

    def __init__(self, stream: TextIO | None, on_task: TaskCallback | None = None) -> None:
        super().__init__()
        self.stream = stream
        self.on_task = on_task

    def write(self, text: str) -> int:
        if self.stream is not None:
            self.stream.write(text)
        if self.on_task is not None and "task" in text.lower():
            plain = _ANSI.sub("", text)
            for found in _STARTED.finditer(plain):
                self.on_task(found.group(1), None)
            for found in _FINISHED.finditer(plain):
                self.on_task(found.group(1), found.group(2))
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


def _collect(outputs: dict[str, Any], out: Path, run_dir: Path, *, keep: bool) -> LocalRun:
    """Put a finished run's results into `out`, replacing an earlier run's.

    `keep`: copy the run's task outputs (a cache points at them), else move them.
    """
    ready = Path(tempfile.mkdtemp(prefix=".results-", dir=run_dir))
    shutil.copytree(Path(outputs["model"].path), ready / MODEL_DIR)
    shutil.copyfile(outputs["metrics"].path, ready / METRICS_FILE)
    shutil.copyfile(outputs["comparison"].path, ready / CHART_FILE)
    released = run_dir / "write-release" / "release"
    promoted = bool(outputs["promote"]) and released.is_file()
    if promoted:
        shutil.copyfile(released, ready / RELEASE_FILE)
    reason = str(outputs["comparison"].metadata.get("reason", ""))
    out.mkdir(parents=True, exist_ok=True)
    for name in (MODEL_DIR, METRICS_FILE, CHART_FILE, RELEASE_FILE):
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)  # never leave the record of an earlier run behind
        if (ready / name).exists():
            os.replace(ready / name, target)
    ready.rmdir()
    final = out / ROOT_DIR / run_dir.name
    final.parent.mkdir(exist_ok=True)
    if keep:
        shutil.copytree(run_dir, final)
    else:
        shutil.move(str(run_dir), str(final))
    return LocalRun(
        out=out,
        model=out / MODEL_DIR,
        metrics=out / METRICS_FILE,
        chart=out / CHART_FILE,
        release=out / RELEASE_FILE if promoted else None,
        promoted=promoted,
        reason=reason,
        run_dir=final,
    )
