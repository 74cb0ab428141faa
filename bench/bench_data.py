"""Benchmark ml.data.dataset on a generated 1.5M-row CSV (20 numeric, 3 categorical, label).

    uv run python bench/bench_data.py [--rows 1500000] [--keep DIR]

Every measurement runs in its own subprocess, which reports its peak RSS. Compared:

- parse: `pyarrow.csv.read_csv(path)` (defaults) against `ml.data.columns.validate_csv` (our
  typed pyarrow read plus every check build_dataset makes) on the same file;
- one epoch at batch 1024: the seed's recipe with only the batch size changed
  (`pd.read_csv` -> `from_tensor_slices(dict).batch(1024).shuffle(1000).prefetch`, which
  shuffles batches, not rows) against `load_split` in memory (rows shuffled every epoch)
  and streaming; iteration time only, the parse is measured above;
- streaming peak memory on the file and on a file 4x larger;
- Keras fit (second epoch) fed by `load_split` against fit on tensors already in memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROWS = 1_500_000
NUMERIC = [f"x{i}" for i in range(20)]
CATEGORICAL = ["color", "shape", "region"]
BATCH = 1024


def generate(path: Path, rows: int, seed: int = 0) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {n: rng.normal(size=rows).astype(np.float32) for n in NUMERIC}
    vocab = {"color": 8, "shape": 5, "region": 40}
    for name, size in vocab.items():
        columns[name] = pa.array([f"{name}_{i}" for i in rng.integers(size, size=rows)])
    score = sum(np.asarray(columns[n]) * (i % 3 - 1) for i, n in enumerate(NUMERIC))
    columns["label"] = pa.array(np.where(score > 0, "yes", "no"))
    pacsv.write_csv(pa.table(columns), path)


def quadruple(src: Path, dst: Path) -> None:
    with src.open("rb") as fh:
        header, body = fh.readline(), fh.read()
    with dst.open("wb") as out:
        out.write(header)
        for _ in range(4):
            out.write(body)


def peak_rss_mb() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent process.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def spec():  # type: ignore[no-untyped-def]
    from ml.data import DatasetSpec

    return DatasetSpec(label="label", numeric=tuple(NUMERIC), categorical=tuple(CATEGORICAL))


def epoch_rows_per_s(ds) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    start, rows = time.perf_counter(), 0
    for _, label in ds:
        rows += int(label.shape[0])
    return rows / (time.perf_counter() - start), rows


def best_of_3(csv: Path, parse) -> dict[str, float]:  # type: ignore[no-untyped-def]
    seconds = []
    for _ in range(3):
        start = time.perf_counter()
        rows = parse()
        seconds.append(time.perf_counter() - start)
    best = min(seconds)
    return {"rows/s": rows / best, "MB/s": csv.stat().st_size / best / 1e6}


def m_parse_pyarrow(csv: Path, _: Path) -> dict[str, float]:
    import pyarrow.csv as pacsv

    return best_of_3(csv, lambda: pacsv.read_csv(csv).num_rows)


def m_parse_ours(csv: Path, _: Path) -> dict[str, float]:
    from ml.data import validate_csv

    return best_of_3(csv, lambda: validate_csv(csv, spec()).table.num_rows)


def m_seed_recipe(csv: Path, _: Path) -> dict[str, float]:
    import pandas as pd
    import tensorflow as tf

    df = pd.read_csv(csv)
    label = (df.pop("label") == "yes").astype("int32")
    ds = tf.data.Dataset.from_tensor_slices((dict(df), label.values))
    ds = ds.batch(BATCH).shuffle(1000).prefetch(tf.data.AUTOTUNE)
    speed, rows = epoch_rows_per_s(ds)
    return {"rows/s": speed, "rows": rows}


def m_in_memory(_: Path, dataset: Path) -> dict[str, float]:
    from ml.data import load_split

    ds = load_split(dataset, "train", batch_size=BATCH, streaming=False)
    speed, rows = epoch_rows_per_s(ds)
    return {"rows/s": speed, "rows": rows}


def m_streaming(_: Path, dataset: Path) -> dict[str, float]:
    from ml.data import load_split

    ds = load_split(dataset, "train", batch_size=BATCH, streaming=True)
    speed, rows = epoch_rows_per_s(ds)
    return {"rows/s": speed, "rows": rows}


def m_streaming_4x(csv: Path, dataset: Path) -> dict[str, float]:
    from ml.data import read_schema, streaming_dataset

    big = csv.with_name("big.csv")
    ds = streaming_dataset(big, read_schema(dataset), batch_size=BATCH, shuffle=True, seed=0)
    speed, rows = epoch_rows_per_s(ds)
    return {"rows/s": speed, "rows": rows, "file MB": big.stat().st_size / 1e6}


def _fit_epoch_seconds(model, *args, **kwargs) -> float:  # type: ignore[no-untyped-def]
    import keras

    times: list[float] = []
    clock = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda e, logs: times.append(time.perf_counter()),
        on_epoch_end=lambda e, logs: times.append(time.perf_counter()),
    )
    model.fit(*args, epochs=2, verbose=0, callbacks=[clock], **kwargs)
    return times[3] - times[2]


def _model(dataset: Path):  # type: ignore[no-untyped-def]
    import keras

    from ml.data import read_schema, read_statistics
    from ml.model import TrainConfig, build_model

    keras.utils.set_random_seed(0)
    return build_model(read_schema(dataset), read_statistics(dataset), TrainConfig())


def m_fit_builder(_: Path, dataset: Path) -> dict[str, float]:
    from ml.data import load_split

    ds = load_split(dataset, "train", batch_size=BATCH)
    seconds = _fit_epoch_seconds(_model(dataset), ds, shuffle=False)
    return {"rows/s": rows_in_train(dataset) / seconds}


def m_fit_tensors(_: Path, dataset: Path) -> dict[str, float]:
    import tensorflow as tf

    from ml.data import read_split

    features, label = read_split(dataset, "train")
    x = {k: tf.constant(v) for k, v in features.items()}
    seconds = _fit_epoch_seconds(
        _model(dataset), x, tf.constant(label), batch_size=BATCH, shuffle=True
    )
    return {"rows/s": len(label) / seconds}


def rows_in_train(dataset: Path) -> int:
    from ml.data import read_schema

    return read_schema(dataset).splits["train"].rows


MEASUREMENTS = {
    "parse: pyarrow.csv.read_csv": m_parse_pyarrow,
    "parse: ml validate_csv": m_parse_ours,
    "epoch: seed recipe @1024": m_seed_recipe,
    "epoch: load_split in memory": m_in_memory,
    "epoch: load_split streaming": m_streaming,
    "epoch: streaming 4x file": m_streaming_4x,
    "fit: tensors in memory": m_fit_tensors,
    "fit: load_split": m_fit_builder,
}


def child(name: str, csv: Path, dataset: Path) -> None:
    result = MEASUREMENTS[name](csv, dataset)
    result["peak RSS MB"] = peak_rss_mb()
    print(json.dumps(result))


def run(name: str, csv: Path, dataset: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", name, "--csv", str(csv), "--dataset", str(dataset)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        print(proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{name} failed")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--keep", type=Path, help="work directory to keep (default: a tmp dir)")
    parser.add_argument("--child")
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--dataset", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.csv, args.dataset)
        return
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_data_"))
    work.mkdir(parents=True, exist_ok=True)
    csv, dataset = work / "bench.csv", work / "dataset"
    start = time.perf_counter()
    if not csv.exists():
        generate(csv, args.rows)
        quadruple(csv, work / "big.csv")
    size = csv.stat().st_size / 1e6
    print(f"generated {csv} ({size:.0f} MB) in {time.perf_counter() - start:.0f} s")
    from ml.data import build_dataset

    start = time.perf_counter()
    build_dataset(csv, spec(), dataset, fractions=(1.0, 0.0, 0.0))
    print(f"build_dataset (all rows in train) in {time.perf_counter() - start:.1f} s")
    results = {}
    for name in MEASUREMENTS:
        results[name] = run(name, csv, dataset)
        print(f"  {name:<30} {json.dumps({k: round(v, 1) for k, v in results[name].items()})}")
    report(results)
    if args.keep is None:
        shutil.rmtree(work)


def report(r: dict[str, dict[str, float]]) -> None:
    def ratio(a: str, b: str) -> float:
        return r[a]["rows/s"] / r[b]["rows/s"]

    checks = [
        ("parse ml / pyarrow", ratio("parse: ml validate_csv", "parse: pyarrow.csv.read_csv"), 0.9),
        (
            "epoch memory / seed",
            ratio("epoch: load_split in memory", "epoch: seed recipe @1024"),
            4,
        ),
        ("fit load_split / tensors", ratio("fit: load_split", "fit: tensors in memory"), 0.9),
    ]
    print(f"\n{'measurement':<30} {'rows/s':>12} {'peak RSS MB':>12}")
    for name, values in r.items():
        print(f"{name:<30} {values['rows/s']:>12,.0f} {values['peak RSS MB']:>12,.0f}")
    print(f"\n{'check':<30} {'value':>8} {'target':>8}")
    for name, value, target in checks:
        verdict = "ok" if value >= target else "MISSED"
        print(f"{name:<30} {value:>8.2f} {'>= ' + str(target):>8} {verdict}")
    for name in ("epoch: load_split streaming", "epoch: streaming 4x file"):
        rss = r[name]["peak RSS MB"]
        verdict = "ok" if rss < 1024 else "MISSED"
        print(f"{name[7:] + ' peak RSS MB':<30} {rss:>8.0f} {'< 1024':>8} {verdict}")


if __name__ == "__main__":
    main()
