"""What one training worker is asked to do, as the JSON file every worker of a run reads.

The same file (or the same fields) reaches each local process and each pod of a job; the
worker's place comes from its TF_CONFIG, not from the spec, so all workers read one spec.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ml.model.training import TrainConfig

__all__ = ["WorkerSpec", "read_spec"]


class WorkerSpec(BaseModel):
    """One multi-worker training run, as each worker sees it.

    Attributes:
        dataset: A built dataset: a directory (sharded or not), or the `s3://` URI it was
            uploaded to (`kfstack data build --out s3://...`; the store from the worker's
            environment, `ml.workers.store.store_from_env`).
        out: The export root; the chief writes `<out>/<version>/` (an `s3://` root: exported
            locally, then uploaded there).
        version: The version the chief exports (chosen before the workers start).
        config: Hyperparameters and seed (None values resolved from the data, as for one worker).
        threads: TensorFlow threads per worker (None: TensorFlow's default).
        progress: Where the chief appends one JSON line per epoch (None: nowhere).
        result: Where the chief writes the run's result as JSON (None: nowhere).
        errors: A directory where a failing worker writes `worker-<index>.error`.
        stats: A directory where each worker writes `worker-<index>.stats.json`: its fit
            time, the rows it trained on and its peak memory (for `bench/bench_workers.py`).

    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str
    out: str
    version: int = Field(ge=1)
    config: TrainConfig = TrainConfig()
    threads: int | None = Field(default=None, ge=1)
    progress: Path | None = None
    result: Path | None = None
    errors: Path | None = None
    stats: Path | None = None

    @property
    def directory(self) -> Path:
        """The dataset as a local directory (after a worker fetched it from a store)."""
        return Path(self.dataset)

    def write(self, path: Path) -> Path:
        """Write the spec as JSON to `path` and return it."""
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")
        return path


def read_spec(path: Path) -> WorkerSpec:
    """Read a spec written by `WorkerSpec.write`."""
    return WorkerSpec.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
