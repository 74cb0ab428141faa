"""Model versions on disk: version numbers, the atomic export, the files beside the model.

`<out_root>/<version>/` is the TF Serving layout (`ml.model.serving.export`); `assets.extra/` next
to it holds schema.json, statistics.json and metrics.json (TF Serving ignores that
directory). A version is written to a hidden directory next to it and renamed into place
only when everything succeeded, and is never overwritten; a failed write also removes the
folders it had to create, so the export root is left exactly as it was.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from ml.data import SCHEMA_FILE, STATISTICS_FILE

EXTRA = "assets.extra"
METRICS_FILE = "metrics.json"

__all__ = ["EXTRA", "METRICS_FILE", "json_safe", "new_version", "next_version", "publish"]


def next_version(out_root: Path) -> int:
    """Return 1 + the largest integer version directory under `out_root` (1 if none)."""
    if not out_root.is_dir():
        return 1
    versions = [int(p.name) for p in out_root.iterdir() if p.is_dir() and p.name.isdigit()]
    return max(versions, default=0) + 1


def new_version(out_root: Path, version: int | None) -> tuple[Path, int]:
    """The directory and number of a new version (None: the next one).

    Raises:
        ValueError: the version is not a positive integer.
        FileExistsError: the version exists already.

    """
    version = next_version(out_root) if version is None else version
    if version < 1:
        raise ValueError(f"version must be a positive integer, got {version}")
    directory = out_root / str(version)
    if directory.exists():
        raise FileExistsError(
            f"{directory} exists: version {version} is never overwritten; "
            f"use version {next_version(out_root)} or leave it out"
        )
    return directory, version


def publish(
    out_root: Path,
    version: int,
    *,
    write: Callable[[Path], None],
    check: Callable[[Path], dict[str, float]],
    dataset_dir: Path,
) -> dict[str, float]:
    """Write a version atomically: `write` the model, `check` it, add `assets.extra/`, rename.

    Args:
        out_root: Where versions live.
        version: The new version's number (free when called, `new_version`).
        write: Writes the model into the directory it is given.
        check: Evaluates the written directory; returns the metrics (raising rejects it).
        dataset_dir: The built dataset whose schema and statistics go to `assets.extra/`.

    Returns:
        The metrics `check` returned.

    """
    created = [p for p in (out_root, *out_root.parents) if not p.exists()]
    out_root.mkdir(parents=True, exist_ok=True)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{version}.partial-", dir=out_root))
        try:
            write(staging)
            metrics = check(staging)
            _write_extra(staging, dataset_dir, metrics, version)
            final, _ = new_version(out_root, version)  # still free after training?
            os.rename(staging, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        _remove_empty(created)  # a failed run leaves no folder it made
        raise
    return metrics


def _remove_empty(directories: list[Path]) -> None:
    """Remove the directories (deepest first) that are still empty."""
    for directory in directories:
        try:
            directory.rmdir()
        except OSError:
            return


def json_safe(metrics: dict[str, float]) -> dict[str, float | None]:
    """Metrics as valid JSON values: NaN and infinities (e.g. AUC of one class) become null."""
    return {k: (float(v) if math.isfinite(v) else None) for k, v in metrics.items()}


def _write_extra(
    directory: Path, dataset_dir: Path, metrics: dict[str, float], version: int
) -> None:
    extra = directory / EXTRA
    extra.mkdir(exist_ok=True)
    for name in (SCHEMA_FILE, STATISTICS_FILE):
        shutil.copyfile(dataset_dir / name, extra / name)
    record = {"version": version, "split": "test", "metrics": json_safe(metrics)}
    text = json.dumps(record, indent=2, allow_nan=False) + "\n"
    (extra / METRICS_FILE).write_text(text, encoding="utf-8")
