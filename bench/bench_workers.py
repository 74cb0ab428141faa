"""Benchmark multi-worker training: rows/s and peak memory per worker, 1 and 2 workers.

    uv run python bench/bench_workers.py [--rows 16000] [--scales 1,2,4] [--epochs 3]

The data set is generated like bench_data's (20 numeric, 3 categorical columns, a binary
label); its base size is 4x the largest test set (the people CSV of tests/ml, 4000 rows),
and it grows by `--scales`. For each size and each worker count (1, 2) the dataset is built
with as many shards as workers and trained with `ml.workers.train_workers` for a fixed
number of epochs (batch 256, no early stop), every worker a process of its own on loopback.
Each worker reports its fit time, the rows it trained on (steps x its share of the batch)
and its peak RSS (VmHWM); the table gives per worker the rows per second and the peak
memory, and the machine's load average before and after each run.

On a machine with few cores the speed-up is not the point: the workers share the cores.
What must hold is that memory per worker stays flat as the data grows (each worker streams
its own shards) and that the workers' test accuracy matches one worker's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_data import generate

#: Rows of the largest data set the tests train on (tests/ml/conftest.py, `people_csv`).
LARGEST_TEST_ROWS = 4000
WORKERS = (1, 2)


def run(csv: Path, root: Path, workers: int, epochs: int) -> dict[str, object]:
    """Build `csv` with `workers` shards, train, and return the per-worker figures."""
    from ml.data import DatasetSpec, build_dataset
    from ml.model import TrainConfig
    from ml.workers import train_workers

    dataset = root / f"ds-{workers}"
    build_dataset(csv, DatasetSpec(label="label"), dataset, shards=workers)
    stats = root / f"stats-{workers}"
    stats.mkdir()
    config = TrainConfig(epochs=epochs, batch_size=256, patience=epochs)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    result = train_workers(
        dataset, root / f"models-{workers}", workers=workers, config=config, stats=stats
    )
    wall = time.perf_counter() - started
    each = [json.loads(p.read_text()) for p in sorted(stats.glob("*.stats.json"))]
    return {
        "workers": workers,
        "wall_s": wall,
        "load": (load, os.getloadavg()[0]),
        "accuracy": result.metrics["accuracy"],
        "per_worker": [
            {
                "index": s["index"],
                "rows_per_s": s["rows"] / s["seconds"],
                "peak_rss_mb": s["peak_rss_mb"],
            }
            for s in each
        ],
    }


def main() -> None:
    """Run every size and worker count, print the table, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4 * LARGEST_TEST_ROWS)
    parser.add_argument("--scales", default="1,2,4", help="data sizes as multiples of --rows")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    results = []
    for scale in (int(s) for s in args.scales.split(",")):
        with tempfile.TemporaryDirectory(prefix="bench-workers-") as scratch:
            root = Path(scratch)
            csv = root / "data.csv"
            generate(csv, args.rows * scale)
            for workers in WORKERS:
                figures = run(csv, root, workers, args.epochs) | {"rows": args.rows * scale}
                results.append(figures)
                print(_line(figures), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def _line(f: dict[str, object]) -> str:
    workers = f["per_worker"]
    assert isinstance(workers, list)
    rate = ", ".join(f"{w['rows_per_s']:,.0f}" for w in workers)
    peak = ", ".join(f"{w['peak_rss_mb']:.0f}" for w in workers)
    load = f["load"]
    assert isinstance(load, tuple)
    return (
        f"rows {f['rows']:>7,} | workers {f['workers']} | rows/s per worker {rate} | "
        f"peak MB per worker {peak} | accuracy {f['accuracy']:.4f} | wall {f['wall_s']:.0f} s"
        f" | load {load[0]:.1f} -> {load[1]:.1f}"
    )


if __name__ == "__main__":
    main()
