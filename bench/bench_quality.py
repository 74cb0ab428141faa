"""Held-out accuracy of kfstack's default model against careful scikit-learn baselines.

    uv run python bench/bench_quality.py [--seeds 3] [--only penguins,wine]

Data sets are the CSV / JSON files shipped inside PyPI packages (dev dependencies), read
from the installed package, never fetched: palmerpenguins, scikit-learn's bundled CSVs
(with the feature names of their loaders as headers), vega_datasets and statsmodels,
fourteen sets chosen for what they stress (`quality_datasets.STRESSES`): keyword headers,
dates in four spellings, free text, missing values, imbalanced 4- and 5-class labels, 10 and
43 classes, a numeric label read as classes, 6366 and 20190 rows. Some are rewritten on the
way (headers renamed to keywords, dates re-spelt, a label made of three 0/1 columns), never
their values or rows. Each is written as a plain CSV and, per seed:

- `ml.data.dataset.build_dataset` with only the label given (everything else inferred) splits it;
- `ml.model.network.train` with the default TrainConfig trains and exports; the accuracy is the
  exported model's on the test split (through its serving signature);
- LogisticRegression (standardized numeric, one-hot categorical, C tuned on validation) and
  RandomForest (500 trees), fitted on train + validation, are scored on the same test rows.
  Both see what the model sees: the frequent words of free-text columns (`ml.data.words`,
  the same words from the same train counts) and date columns as year fractions
  (`ml.data.dates`), so a feature of the model is never a gap between it and the baselines.

The table reports the median over seeds; the check is kfstack >= best baseline - 1 point and
training (build + train + export) under 60 s of CPU time per run (the process's CPU time,
all threads: wall time on a shared machine measures the other tenants too; both shown),
with the machine's load average before and after. `limit` counts the trainings that ran to
their epoch limit.

What the rows can tell apart: where the default test split would hold fewer than 100 rows,
one row is more than the 1-point tolerance, so a median of three such splits cannot show a
1-point gap either way. Those files are scored by k-fold instead, k = 1 / the default test
share = 10 (`quality_folds`): per seed, each tenth of the rows is the test split once, the
rest cut 8 : 1 into train and validation as a default build cuts them, and the seed's
accuracy is over every row of the file. Every run also compares kfstack with the better
baseline (higher median) row by row on the same test rows, pooled over the seeds (`paired`:
the difference in accuracy, with an exact 95% interval from the rows only one of the two
gets right, `quality_verdict.py`). The verdict keeps the 1-point rule and says which
misses the rows cannot confirm:

- `ok`: the median gap is within 1 point (the target);
- `MISSED`: the median gap is not, and the paired interval lies wholly below -1 point;
- `unresolved`: the median gap is not, but the paired interval reaches -1 point: the test
  rows cannot tell the gap from one within the tolerance. Not a pass: more or larger
  splits would decide it.

`--jobs N` runs N trainings at once, each in its own process: the CPU time is each
process's, so the 60 s check still holds per training; wall times then include waiting.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from quality_datasets import DATASETS, STRESSES
from quality_folds import data_rows, folds_for, held_out
from quality_verdict import paired_difference, verdict

from kfstack.cli.output import quiet_tensorflow

quiet_tensorflow()  # as the CLI: no TensorFlow log lines


def _matrix(dataset: Path, split: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Numeric block (dates as the model reads them: year fractions), categorical block, label."""
    from ml.data import read_schema, read_split
    from ml.data.dates import year_fraction

    schema = read_schema(dataset)
    features, label = read_split(dataset, split)
    numeric = [features[c.key].astype(np.float64) for c in schema.numeric]
    for c in schema.categorical:
        if c.date is not None:
            spelling = c.date
            numeric.append(np.array([_date(v, spelling, year_fraction) for v in features[c.key]]))
    dense = np.stack(numeric, axis=1) if numeric else np.zeros((len(label), 0))
    dense = np.where(np.isnan(dense), np.nanmean(dense, axis=0), dense) if numeric else dense
    categorical = [features[c.key].astype(str) for c in schema.categorical if c.date is None]
    return dense, (np.stack(categorical, axis=1) if categorical else None), label


def _date(value: str, spelling: str, read: Callable[[str, str], float]) -> float:
    try:
        return read(value, spelling)
    except ValueError:
        return float("nan")


def _text_columns(dataset: Path) -> list[tuple[int, list[str]]]:
    """(position in the categorical block, frequent words) of each free-text column.

    The same words, from the same train counts, as the model reads (`ml.data.words`).
    """
    from ml.data import read_schema, read_statistics
    from ml.model import free_text_words

    schema = read_schema(dataset)
    texts = free_text_words(schema, read_statistics(dataset))
    plain = [c for c in schema.categorical if c.date is None]
    return [(i, texts[c.key]) for i, c in enumerate(plain) if c.key in texts]


def _multi_hot(values: np.ndarray, vocabulary: list[str]) -> np.ndarray:
    """1.0 where a value contains a word of `vocabulary` (`ml.data.words.words` splits it)."""
    from ml.data.words import words  # `ml.data.words` is the module once it is imported

    index = {word: j for j, word in enumerate(vocabulary)}
    out = np.zeros((len(values), len(vocabulary)))
    for row, value in enumerate(values):
        for word in words(str(value)):
            if word in index:
                out[row, index[word]] = 1.0
    return out


def baselines(dataset: Path, seed: int) -> dict[str, np.ndarray]:
    """Per test row, whether LogisticRegression and RandomForest (train + validation) are right."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    parts = {s: _matrix(dataset, s) for s in ("train", "validation", "test")}
    texts = _text_columns(dataset)
    scaler = StandardScaler().fit(parts["train"][0])
    onehot = None
    if parts["train"][1] is not None:
        onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        onehot.fit(np.concatenate([parts["train"][1], parts["validation"][1]]))

    def x(split: str) -> np.ndarray:
        numeric, categorical, _ = parts[split]
        blocks = [scaler.transform(numeric)]
        if onehot is not None:
            blocks.append(onehot.transform(categorical))
            blocks.extend(_multi_hot(categorical[:, i], vocabulary) for i, vocabulary in texts)
        return np.concatenate(blocks, axis=1)

    y = {s: parts[s][2] for s in parts}
    best_c = max(
        (0.01, 0.1, 1.0, 10.0, 100.0),
        key=lambda c: (
            LogisticRegression(C=c, max_iter=5000)
            .fit(x("train"), y["train"])
            .score(x("validation"), y["validation"])
        ),
    )
    fit_x = np.concatenate([x("train"), x("validation")])
    fit_y = np.concatenate([y["train"], y["validation"]])
    lr = LogisticRegression(C=best_c, max_iter=5000).fit(fit_x, fit_y)
    rf = RandomForestClassifier(n_estimators=500, random_state=seed, n_jobs=1).fit(fit_x, fit_y)
    return {
        "logreg": lr.predict(x("test")) == y["test"],
        "forest": rf.predict(x("test")) == y["test"],
    }


def one_run(
    csv: Path, label: str, work: Path, seed: int, *, fold: int = 0, folds: int = 1
) -> tuple[dict[str, float], dict]:
    """Figures of one training, and per test row whether each model is right.

    With `folds` > 1 the test split is fold `fold` of the seed's k-fold (`quality_folds`).
    """
    from ml.data import DatasetSpec, build_dataset, read_split
    from ml.model import TrainConfig, predict_columns, train

    name = f"{seed}-{fold}"
    start, cpu = time.perf_counter(), time.process_time()
    with held_out(fold, folds) if folds > 1 else contextlib.nullcontext():
        built = build_dataset(csv, DatasetSpec(label=label), work / f"ds{name}", seed=seed)
    result = train(built.directory, work / f"model{name}", config=TrainConfig(seed=seed))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert result.plan is not None
    features, truth = read_split(built.directory, "test")
    right = {
        "kfstack": np.argmax(predict_columns(result.export_dir, features), axis=1) == truth,
        **baselines(built.directory, seed),
    }
    epochs = len(result.history["loss"])
    figures = {
        "kfstack": result.metrics["accuracy"],
        "seconds": seconds,
        "cpu seconds": cpu,
        "epochs": epochs,
        "limit": result.plan.epochs,
        "at limit": float(epochs >= result.plan.epochs),
        "batch": result.plan.batch_size,
        "test rows": result.metrics["rows"],
        "logreg": float(right["logreg"].mean()),
        "forest": float(right["forest"].mean()),
    }
    shutil.rmtree(work / f"ds{name}")
    shutil.rmtree(work / f"model{name}")
    return figures, right


def one_seed(runs: list[tuple[dict[str, float], dict]]) -> tuple[dict[str, float], dict]:
    """A seed's figures from its folds: accuracy over all their test rows, the worst time."""
    if len(runs) == 1:
        return runs[0]
    right = {k: np.concatenate([r[k] for _, r in runs]) for k in runs[0][1]}
    figures = [f for f, _ in runs]
    merged = {k: float(np.median([f[k] for f in figures])) for k in ("epochs", "limit", "batch")}
    merged.update({k: max(f[k] for f in figures) for k in ("seconds", "cpu seconds")})
    merged["at limit"] = sum(f["at limit"] for f in figures)
    merged["test rows"] = sum(f["test rows"] for f in figures)
    merged.update({k: float(v.mean()) for k, v in right.items()})
    return merged, right


def summary(runs: list[tuple[dict[str, float], dict]], folds: int) -> dict[str, float]:
    """Medians over seeds, the worst times and the pooled paired comparison."""
    figures = [f for f, _ in runs]
    out = {k: float(np.median([f[k] for f in figures])) for k in figures[0]}
    out["seeds"], out["folds"] = len(runs), folds
    out["limits reached"] = sum(f["at limit"] for f in figures)
    out["max seconds"] = max(f["seconds"] for f in figures)
    out["max cpu seconds"] = max(f["cpu seconds"] for f in figures)
    better = "logreg" if out["logreg"] >= out["forest"] else "forest"
    pooled = {k: np.concatenate([right[k] for _, right in runs]) for k in ("kfstack", better)}
    diff, low, high = paired_difference(pooled["kfstack"], pooled[better])
    out.update({"paired": diff, "paired low": low, "paired high": high})
    out["pooled rows"] = len(pooled["kfstack"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="splits per data set (default 3)")
    parser.add_argument("--only", help="comma-separated data sets (default: all)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="trainings run at once, each in its own process (default 1; CPU time is "
        "measured per process, so it stays comparable; wall time does not)",
    )
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(DATASETS)
    print(f"load average before: {os.getloadavg()}, cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="bench_quality_") as tmp:
        tasks, folds = {}, {}
        for name in names:
            work = Path(tmp) / name
            work.mkdir()
            csv, label = DATASETS[name](work)
            folds[name] = folds_for(data_rows(csv))
            print(f"{name}: {STRESSES[name]}; {folds[name]} fold(s) per seed", flush=True)
            for seed in range(args.seeds):
                for fold in range(folds[name]):
                    tasks[name, seed, fold] = (csv, label, work, seed, fold, folds[name])
        done = _run_all(tasks, args.jobs)
    results = {}
    for name in names:
        seeds = [
            one_seed([done[name, seed, fold] for fold in range(folds[name])])
            for seed in range(args.seeds)
        ]
        results[name] = summary(seeds, folds[name])
        print(f"{name}: {json.dumps({k: round(v, 4) for k, v in results[name].items()})}")
    report(results)
    print(f"load average after: {os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def _one(task: tuple) -> tuple[dict[str, float], dict]:
    csv, label, work, seed, fold, folds = task
    return one_run(csv, label, work, seed, fold=fold, folds=folds)


def _run_all(tasks: dict[tuple, tuple], jobs: int) -> dict[tuple, tuple[dict[str, float], dict]]:
    """Run every (data set, seed, fold) training, `jobs` processes at once; print each."""
    done = {}

    def show(key: tuple, run: tuple[dict[str, float], dict]) -> None:
        done[key] = run
        name, seed, fold = key
        print(f"{name} seed {seed} fold {fold}: {json.dumps(run[0])}", flush=True)

    if jobs <= 1:
        for key, task in tasks.items():
            show(key, _one(task))
        return done
    context = multiprocessing.get_context("spawn")  # TensorFlow does not survive a fork
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(_one, task): key for key, task in tasks.items()}
        for future in as_completed(futures):
            show(futures[future], future.result())
    return done


def report(results: dict[str, dict[str, float]]) -> None:
    head = (
        f"{'data set':<16} {'folds':>5} {'rows':>5} {'1 row':>5} {'kfstack':>8} {'logreg':>7} "
        f"{'forest':>7}"
    )
    print(
        f"\n{head} {'gap':>6} {'paired (95%)':>21} {'max s':>6} {'cpu s':>6} {'epochs':>6} "
        f"{'limit':>5} {'batch':>5}  check"
    )
    for name, r in results.items():
        gap = r["kfstack"] - max(r["logreg"], r["forest"])
        paired = f"{r['paired']:+.3f} [{r['paired low']:+.3f},{r['paired high']:+.3f}]"
        print(
            f"{name:<16} {r['folds']:>5.0f} {r['test rows']:>5.0f} {100 / r['test rows']:>5.1f} "
            f"{r['kfstack']:>8.3f} "
            f"{r['logreg']:>7.3f} {r['forest']:>7.3f} {gap:>+6.3f} {paired:>21} "
            f"{r['max seconds']:>6.1f} {r['max cpu seconds']:>6.1f} {r['epochs']:>6.0f} "
            f"{r['limits reached']:>5.0f} {r['batch']:>5.0f}  "
            f"{verdict(gap, r['paired high'], r['max cpu seconds'])}"
        )


if __name__ == "__main__":
    main()
