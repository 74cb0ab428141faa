"""The issue-11 cases without training: splits that hold, labels a model can learn, the
data-quality report, true line numbers, the training plan and the gate's sanity checks."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ml.components.core.comparison import Identity, Serving, decide, parse_serving
from ml.data import DataError, DatasetSpec, build_dataset, inspect_csv
from ml.data.splits import fold_indices, split_indices
from ml.model import json_safe
from ml.model.training import TrainConfig, class_weights, plan
from tests.ml.conftest import write_rows

Main = Callable[[list[str]], int]


def test_one_class_label_is_refused_before_splitting(tmp_path: Path) -> None:
    csv = write_rows(tmp_path / "one.csv", ["x", "label"], [[i, "yes"] for i in range(50)])
    with pytest.raises(DataError, match=r"one class \('yes'\) in all 50 rows") as err:
        build_dataset(csv, DatasetSpec(label="label"), tmp_path / "ds")
    assert "column 'label'" in str(err.value)
    assert not (tmp_path / "ds").exists()


def test_small_classes_still_reach_every_split(tmp_path: Path) -> None:
    # 3, 4 and 40 rows: rounding 10% would give the small classes no validation/test rows
    rows = [[i, c] for i, c in enumerate(["a"] * 3 + ["b"] * 4 + ["c"] * 40)]
    csv = write_rows(tmp_path / "small.csv", ["x", "label"], rows)
    built = build_dataset(csv, DatasetSpec(label="label"), tmp_path / "ds")
    for split in ("train", "validation", "test"):
        distribution = built.statistics["label"][split]["distribution"]
        assert all(n >= 1 for n in distribution.values()), (split, distribution)
    assert sum(built.rows.values()) == 47


def test_too_few_rows_for_a_class_is_one_clear_error(tmp_path: Path) -> None:
    rows = [[i, c] for i, c in enumerate(["rare"] * 2 + ["other"] * 1 + ["ok"] * 30)]
    csv = write_rows(tmp_path / "rare.csv", ["x", "label"], rows)
    with pytest.raises(DataError) as err:
        build_dataset(csv, DatasetSpec(label="label"), tmp_path / "ds")
    text = str(err.value)
    assert "too few rows for class 'rare': 2 (need 3" in text
    assert "too few rows for class 'other': 1" in text and "'ok'" not in text
    assert not (tmp_path / "ds").exists()


def test_tiny_regression_file_needs_three_rows() -> None:
    with pytest.raises(DataError, match=r"too few rows: 2 \(need 3"):
        split_indices(2, (0.8, 0.1, 0.1), seed=0)
    parts = split_indices(3, (0.8, 0.1, 0.1), seed=0)
    assert [len(parts[s]) for s in ("train", "validation", "test")] == [1, 1, 1]


def test_500_classes_split_with_every_class_everywhere(tmp_path: Path) -> None:
    rows = [[i % 7, f"class{i % 500:03d}"] for i in range(500 * 5)]
    csv = write_rows(tmp_path / "many.csv", ["x", "label"], rows)
    built = build_dataset(csv, DatasetSpec(label="label"), tmp_path / "ds")
    assert built.schema.label.classes is not None and len(built.schema.label.classes) == 500
    for split in ("train", "validation", "test"):
        assert min(built.statistics["label"][split]["distribution"].values()) >= 1


def test_inspect_header_only_file_has_no_rows_and_no_traceback(
    kfstack: Main, make_csv: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_csv("age,city,label\n")
    assert inspect_csv(path).rows == 0
    assert kfstack(["data", "inspect", "--csv", str(path)]) == 0
    out = capsys.readouterr().out
    assert "no data rows" in out and "Traceback" not in out


def test_inspect_flags_empty_constant_id_and_free_text_columns(
    kfstack: Main, make_csv: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["Sample Number,note,empty,study,comment text,age,label"]
    for i in range(60):
        note = "" if i % 4 else "seen"
        lines.append(f"{i + 1},{note},,PAL0708,free text number {i},{20 + i % 30},{'ab'[i % 2]}")
    path = make_csv("\n".join(lines) + "\n")
    profile = inspect_csv(path)
    problems = {(f.column, f.problem.split(":")[0]) for f in profile.findings}
    assert ("Sample Number", "ID-like") in problems
    assert ("empty", "empty") in problems
    assert ("study", "constant") in problems
    assert ("comment text", "ID-like") in problems or (
        "comment text",
        "high-cardinality text",
    ) in problems
    assert ("note", "mostly missing") in problems
    assert not any(c == "age" for c, _ in problems)
    assert kfstack(["data", "inspect", "--csv", str(path)]) == 0
    out = capsys.readouterr().out
    assert "--drop empty" in out  # surely carries nothing
    assert "--drop 'Sample Number'" not in out  # only looks useless: measure it
    assert "column 'Sample Number': ID-like: every value is different  -> measure it" in out
    assert kfstack(["data", "inspect", "--csv", str(path), "--label", "label"]) == 0
    out = capsys.readouterr().out
    assert "does not help the model (held-out loss" in out and "--drop 'Sample Number'" in out


def test_inspect_advice_is_measured_keep_what_helps_flag_leaks(
    make_csv: Callable[..., Path],
) -> None:
    rng = np.random.default_rng(0)
    lines = ["row,company,outcome code,x,label"]
    for i in range(300):
        maker = ("acme", "globex", "initech")[i % 3]
        x = rng.normal()
        label = "yes" if (maker == "acme") + 0.3 * x + rng.normal(0, 0.3) > 0.5 else "no"
        lines.append(f"{i + 1},{maker} unit {i},{label} code {i},{x:.3f},{label}")
    path = make_csv("\n".join(lines) + "\n")
    findings = {f.column: f for f in inspect_csv(path, label="label").findings}
    assert findings["row"].fix == "--drop row" and "does not help" in findings["row"].problem
    assert findings["company"].fix == "keep it" and "helps the model" in findings["company"].problem
    assert findings["outcome code"].fix == "--drop 'outcome code'"
    assert "leaks the label? alone it predicts 100.0%" in findings["outcome code"].problem
    assert "x" not in findings


def test_sklearn_style_header_is_flagged_and_refused(
    make_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = make_csv("4,2,setosa,versicolor\n5.1,3.5,0\n4.9,3.0,1\n4.7,3.2,0\n4.6,3.1,1\n")
    with pytest.raises(DataError) as err:
        build_dataset(path, DatasetSpec(label="setosa"), tmp_path / "ds")
    assert "line 1" in str(err.value) and "n_samples,n_features" in str(err.value)
    assert len(err.value.problems) == 1  # not one error per row


def test_numbers_as_header_names_are_a_warning(make_csv: Callable[..., Path]) -> None:
    path = make_csv("1.5,2,3\n4,5,6\n7,8,9\n")
    (finding,) = inspect_csv(path).findings
    assert finding.column is None and "header looks like data" in finding.problem


def test_quoted_newlines_keep_true_line_numbers(
    make_csv: Callable[..., Path], tmp_path: Path
) -> None:
    text = 'age,comment,label\n1,"two\nlines",yes\n2,"three\nmore\nlines",no\nabc,x,yes\n'
    with pytest.raises(DataError, match=r"line 7, column 'age': expected a number, found 'abc'"):
        spec = DatasetSpec(label="label", numeric=("age",))
        build_dataset(make_csv(text), spec, tmp_path / "ds")


def test_bad_row_after_quoted_newline_names_its_line(
    make_csv: Callable[..., Path], tmp_path: Path
) -> None:
    text = 'a,b,label\n1,"x\ny",yes\n2,3,no,extra\n'
    with pytest.raises(DataError, match=r"line 4: expected 3 fields, found 4"):
        build_dataset(make_csv(text), DatasetSpec(label="label"), tmp_path / "ds")


def test_plan_adapts_batch_and_epochs_to_the_rows() -> None:
    small, large = plan(280, TrainConfig()), plan(1_200_000, TrainConfig())
    assert small.batch_size == 16 and small.passes == 4 and small.steps_per_epoch == 72
    assert small.epochs == 56 and small.patience == 5
    assert large.batch_size == 1024 and large.epochs == 10 and large.passes == 1
    fixed = plan(280, TrainConfig(epochs=5, batch_size=32, patience=2))
    assert (fixed.epochs, fixed.batch_size, fixed.patience, fixed.passes) == (5, 32, 2, 1)


def test_small_files_train_a_crossfitted_ensemble_large_files_one_model() -> None:
    small = plan(280, TrainConfig(), validation_rows=35)
    assert small.members == 5 and small.steps_per_epoch == plan(315, TrainConfig()).steps_per_epoch
    assert plan(1_200_000, TrainConfig(), validation_rows=150_000).members == 1
    assert plan(280, TrainConfig()).members == 1  # no validation rows to pool
    assert plan(280, TrainConfig(members=1), validation_rows=35).members == 1


def test_folds_are_seeded_balanced_and_stratified() -> None:
    strata = np.array([0] * 40 + [1] * 12 + [2] * 3)
    folds = fold_indices(len(strata), 5, seed=1, strata=strata)
    assert np.array_equal(folds, fold_indices(len(strata), 5, seed=1, strata=strata))
    assert sorted(np.bincount(folds)) == [11, 11, 11, 11, 11]
    assert all(np.bincount(folds[strata == 0], minlength=5).tolist() == [8] * 5 for _ in [0])
    assert set(np.bincount(folds[strata == 1], minlength=5)) <= {2, 3}


@pytest.mark.parametrize("field", ["epochs", "batch_size", "patience", "members"])
def test_zero_epochs_batch_or_patience_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match=f"{field} must be a positive integer, got 0"):
        TrainConfig(**{field: 0})  # type: ignore[arg-type]


def test_class_weights_only_when_asked_for() -> None:
    assert class_weights([50, 50]) is None
    assert class_weights([90, 10]) is None  # auto: accuracy is best served by the shares
    assert class_weights([90, 10], "none") is None
    balanced = class_weights([60, 40], "balanced")
    assert balanced is not None and balanced[0] * 60 == pytest.approx(balanced[1] * 40)
    assert class_weights([60, 0, 40], "balanced") == {0: pytest.approx(100 / 120), 1: 1.0, 2: 1.25}


def test_metrics_json_never_holds_nan() -> None:
    text = json.dumps(json_safe({"auc": math.nan, "loss": 0.5}), allow_nan=False)
    assert json.loads(text) == {"auc": None, "loss": 0.5}


CANDIDATE = {"accuracy": 0.9, "loss": 0.3, "baseline_accuracy": 0.6, "baseline_loss": 0.69}


def test_gate_refuses_nan_metrics() -> None:
    decision = decide({"auc": math.nan, "loss": -0.0}, None, metric="auc")
    assert not decision.promote and not decision.sane
    assert "not a finite number" in decision.reason


def test_gate_refuses_a_candidate_no_better_than_the_baseline() -> None:
    trivial = {"accuracy": 0.6, "baseline_accuracy": 0.6}
    decision = decide(trivial, None, metric="accuracy")
    assert not decision.promote and "trivial baseline" in decision.reason
    assert decide(CANDIDATE, None, metric="accuracy").promote
    margin = decide(CANDIDATE, None, metric="accuracy", min_gain=0.35)
    assert not margin.promote and "by more than 0.35" in margin.reason
    assert decide(CANDIDATE, None, metric="loss").promote  # 0.3 < 0.69: minimized


IRIS = Identity(
    label="species",
    task="classification",
    classes=("a", "b"),
    inputs=(("x", "numeric"), ("c", "categorical")),
)


def _record(**changes: object) -> str:
    record = {
        "name": "iris",
        "version": "3",
        "created_at": "2026-11-28T10:00:00Z",
        "metrics": {"accuracy": 0.5},
        "label": "species",
        "task": "classification",
        "classes": ["a", "b"],
        "input_schema": [
            {"name": "x", "kind": "numeric", "dtype": "float64"},
            {"name": "c", "kind": "categorical", "dtype": "string"},
        ],
    }
    return json.dumps(record | changes)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"label": "colour"}, "label 'colour' (candidate: 'species')"),
        ({"task": "regression", "classes": None}, "task 'regression'"),
        ({"classes": ["a", "b", "c"]}, "classes ['a', 'b', 'c']"),
        ({"input_schema": [{"name": "x", "kind": "numeric", "dtype": "float32"}]}, "+c"),
    ],
)
def test_gate_refuses_a_serving_release_of_another_model(
    changes: dict[str, object], expected: str
) -> None:
    serving = parse_serving(_record(**changes))
    assert serving is not None and serving.label == "serving iris v3 (2026-11-28)"
    decision = decide(CANDIDATE, serving, metric="accuracy", identity=IRIS)
    assert not decision.promote and not decision.comparable
    assert "is another model" in decision.reason and expected in decision.reason


def test_gate_compares_a_release_of_the_same_model() -> None:
    decision = decide(CANDIDATE, parse_serving(_record()), metric="accuracy", identity=IRIS)
    assert decision.promote and decision.comparable


def test_old_records_without_identity_still_compare() -> None:
    decision = decide(CANDIDATE, Serving("s", {"accuracy": 0.5}), metric="accuracy", identity=IRIS)
    assert decision.promote


def test_split_indices_keep_proportions_on_large_data() -> None:
    strata = np.repeat([0, 1], [900, 100])
    parts = split_indices(1000, (0.8, 0.1, 0.1), seed=0, strata=strata)
    assert [len(parts[s]) for s in ("train", "validation", "test")] == [800, 100, 100]
    assert int((strata[parts["test"]] == 1).sum()) == 10
