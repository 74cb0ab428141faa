"""N training workers on this machine: processes on loopback, each with its own TF_CONFIG.

`train_workers` picks free ports on 127.0.0.1, writes one spec, starts
`python -m ml.workers.worker` N times (worker i with the TF_CONFIG of index i), follows the
chief's progress and waits. When a worker fails, the others are stopped (they would wait
for it in an all-reduce forever) and the run ends with a `WorkerError` naming the worker,
its address, its exit status and its error. A failed run leaves the export root as it was
(the chief writes the version atomically, `ml.model.export.publish`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from ml.data.schema import read_schema
from ml.data.shards import assign, shards_of
from ml.model.export import new_version
from ml.model.network import TrainingError, TrainResult
from ml.model.training import Plan, TrainConfig
from ml.model_release.store import ObjectStore
from ml.workers.cluster import TF_CONFIG, free_ports, tf_config
from ml.workers.spec import WorkerSpec
from ml.workers.store import is_store_uri, store_env

__all__ = ["WorkerError", "train_workers"]

#: Seconds between two looks at the workers and the progress file.
POLL = 0.2
#: Lines of a failed worker's log shown when it wrote no error of its own.
TAIL = 8
#: How long stopped workers get to exit before they are killed.
GRACE = 5.0


class WorkerError(TrainingError):
    """A training worker failed; the run stopped the others."""

    def __init__(self, index: int, workers: int, address: str, status: int, detail: str) -> None:
        self.index, self.workers, self.address, self.status = index, workers, address, status
        how = f"exit status {status}" if status >= 0 else f"killed by signal {-status}"
        role = " (chief)" if index == 0 else ""
        super().__init__(
            f"worker {index}{role} of {workers} at {address} failed ({how}): {detail}; "
            "the other workers were stopped"
        )


def train_workers(
    dataset: Path | str,
    out_root: Path,
    *,
    workers: int,
    version: int | None = None,
    config: TrainConfig | None = None,
    on_epoch: Callable[[int, int, dict[str, float]], None] | None = None,
    threads: int | None = None,
    store: ObjectStore | None = None,
    stats: Path | None = None,
) -> TrainResult:
    """Train with `workers` local processes (MultiWorkerMirroredStrategy) and export.

    Args:
        dataset: A built dataset with at least `workers` shards per split (`kfstack data
            build --shards N`; one worker reads an unsharded one too): a directory, or the
            `s3://` URI it was uploaded to, read with `store`.
        out_root: Export root; the chief writes `<out_root>/<version>/` as one worker does.
        workers: Worker processes (1 runs the same program alone).
        version: The integer version; None takes the next free one.
        config: Hyperparameters and seed (one network: no cross-fitted ensemble).
        on_epoch: Called after each epoch with its number, the epoch budget and the logs.
        threads: TensorFlow threads per worker (None: the machine's cores / workers).
        store: The object store of an `s3://` dataset (its keys reach the workers through
            their environment, never the spec file).
        stats: A folder for each worker's fit time, rows and peak memory (`WorkerSpec.stats`).

    Raises:
        WorkerError: a worker failed (named, with its error).
        FileExistsError: the version exists already.

    """
    if workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers}")
    if is_store_uri(str(dataset)) and store is None:
        raise ValueError(f"{dataset} is in an object store: give its store (keys, endpoint)")
    if not is_store_uri(str(dataset)):
        dataset = Path(dataset).resolve()
        schema = read_schema(dataset)
        for split in ("train", "validation"):  # refused here, before any worker starts
            assign(shards_of(schema, split), workers, 0)
    out_root = Path(out_root).resolve()
    _, version = new_version(out_root, version)
    threads = threads or max(1, (os.cpu_count() or 1) // workers)
    with tempfile.TemporaryDirectory(prefix="kfstack-workers-") as scratch:
        run = Path(scratch)
        spec = WorkerSpec(
            dataset=str(dataset),
            out=str(out_root),
            version=version,
            config=config or TrainConfig(),
            threads=threads,
            progress=run / "progress.jsonl",
            result=run / "result.json",
            errors=run,
            stats=stats,
        )
        path = spec.write(run / "spec.json")
        addresses = [f"127.0.0.1:{port}" for port in free_ports(workers)]
        logs = [(run / f"worker-{i}.log").open("wb") for i in range(workers)]
        try:
            extra = store_env(store) if store is not None else {}
            processes = [
                _start(path, tf_config(addresses, i), log, extra) for i, log in enumerate(logs)
            ]
            _watch(processes, addresses, run, spec, on_epoch)
        finally:
            for log in logs:
                log.close()
        result = json.loads((run / "result.json").read_text(encoding="utf-8"))
    return TrainResult(
        export_dir=Path(result["export_dir"]),
        version=int(result["version"]),
        metrics=result["metrics"],
        history=result["history"],
        plan=Plan(**result["plan"]),
    )


def _start(
    spec: Path, config: dict[str, object], log: IO[bytes], extra: dict[str, str]
) -> subprocess.Popen[bytes]:
    env = os.environ | extra | {TF_CONFIG: json.dumps(config)}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    command = [sys.executable, "-m", "ml.workers.worker", "--spec", str(spec)]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def _watch(
    processes: list[subprocess.Popen[bytes]],
    addresses: list[str],
    run: Path,
    spec: WorkerSpec,
    on_epoch: Callable[[int, int, dict[str, float]], None] | None,
) -> None:
    """Wait for every worker, passing the chief's progress on; stop all when one fails."""
    seen = 0
    try:
        while True:
            seen = _progress(spec.progress, seen, on_epoch)
            states = [p.poll() for p in processes]
            failed = [(i, s) for i, s in enumerate(states) if s not in (None, 0)]
            if failed:
                index, status = failed[0]
                _stop(processes)
                detail = _detail(run, index)
                raise WorkerError(index, len(processes), addresses[index], status or 0, detail)
            if all(s == 0 for s in states):
                _progress(spec.progress, seen, on_epoch)
                return
            time.sleep(POLL)
    except BaseException:
        _stop(processes)
        raise


def _progress(
    path: Path | None,
    seen: int,
    on_epoch: Callable[[int, int, dict[str, float]], None] | None,
) -> int:
    """Pass the complete progress lines after the first `seen` to `on_epoch`."""
    if path is None or not path.is_file():
        return seen
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    complete = [line for line in lines[seen:] if line.endswith("\n")]
    for line in complete:
        if on_epoch is not None:
            entry = json.loads(line)
            on_epoch(int(entry["epoch"]), int(entry["epochs"]), dict(entry["logs"]))
    return seen + len(complete)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + GRACE
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _detail(run: Path, index: int) -> str:
    """The worker's own error line, else the last lines of its log."""
    error = run / f"worker-{index}.error"
    if error.is_file():
        return _short(error.read_text(encoding="utf-8").strip())
    log = run / f"worker-{index}.log"
    text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
    tail = [line for line in text.splitlines() if line.strip()][-TAIL:]
    return _short(" | ".join(tail)) or "no output"


def _short(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
