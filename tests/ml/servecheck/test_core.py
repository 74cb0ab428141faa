"""The pure core of `serve check`: routes, bodies, responses, batching, scoring, drift."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from ml.data import DataError
from ml.model import classification_metrics
from ml.model_release import InputColumn
from ml.servecheck.batching import Accepted, Refused, Reply, predict_all
from ml.servecheck.client import DEFAULT_COOKIE, Auth, load_auth
from ml.servecheck.drift import (
    Tolerances,
    compare,
    difference_interval,
    drifted,
    parse_tolerances,
    wilson,
)
from ml.servecheck.holdout import read_holdout
from ml.servecheck.protocol import (
    ProtocolError,
    batches,
    encode,
    error_reason,
    parse_response,
    request_body,
    resolve_route,
)
from ml.servecheck.score import ScoreError, default_classes, score
from ml.servecheck.targets import TAG_HEADER, resolve_targets

# -- routes ------------------------------------------------------------------------------


def test_a_base_url_gets_the_v1_predict_path_of_the_release_model() -> None:
    route = resolve_route("http://iris.ds.example.com/", model="iris", protocol=None)
    assert route.url == "http://iris.ds.example.com/v1/models/iris:predict"
    assert route.protocol == "v1"
    v2 = resolve_route("https://gw:8443/prefix", model="iris", protocol="v2")
    assert v2.url == "https://gw:8443/prefix/v2/models/iris/infer"


def test_a_full_predict_url_gives_model_and_protocol() -> None:
    route = resolve_route("http://h/v2/models/iris/versions/3/infer", model=None, protocol=None)
    assert (route.model, route.protocol) == ("iris", "v2")
    assert route.url == "http://h/v2/models/iris/versions/3/infer"


@pytest.mark.parametrize(
    ("url", "model", "protocol", "message"),
    [
        ("iris.example.com", "iris", None, "not an http"),
        ("http://h/v1/models/other:predict", "iris", None, "serves model 'other'"),
        ("http://h/v1/models/iris:predict", "iris", "v2", "is a v1 path"),
        ("http://h", None, None, "names no model"),
    ],
)
def test_bad_endpoints_say_what_is_wrong(
    url: str, model: str | None, protocol: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_route(url, model=model, protocol=protocol)  # type: ignore[arg-type]


def test_batches_cover_every_row_once() -> None:
    assert [list(b) for b in batches(5, 2)] == [[0, 1], [2, 3], [4]]
    assert batches(0, 3) == []
    with pytest.raises(ValueError, match="at least 1"):
        batches(3, 0)


# -- bodies and responses ------------------------------------------------------------------

FEATURES = {
    "age": np.array([30.5, np.nan, 41.0], dtype=np.float32),
    "city": np.array(["Paris", "", "Nice"], dtype=object),
}


def test_v1_body_is_one_instance_per_row_with_nan_kept() -> None:
    body = request_body("v1", FEATURES, [2, 1])
    assert body["instances"][0] == {"age": 41.0, "city": "Nice"}
    assert np.isnan(body["instances"][1]["age"]) and body["instances"][1]["city"] == ""
    assert b'"age":NaN' in encode(body)


def test_v2_body_is_one_tensor_per_input() -> None:
    body = request_body("v2", FEATURES, [0, 2])
    assert body["inputs"] == [
        {"name": "age", "shape": [2], "datatype": "FP32", "data": [30.5, 41.0]},
        {"name": "city", "shape": [2], "datatype": "BYTES", "data": ["Paris", "Nice"]},
    ]


def test_v2_datatypes_follow_the_release_dtypes() -> None:
    body = request_body("v2", FEATURES, [0], dtypes={"age": "float64", "city": "string"})
    assert [i["datatype"] for i in body["inputs"]] == ["FP64", "BYTES"]


def test_v1_predictions_keep_float32_and_single_outputs_flatten() -> None:
    probs = parse_response("v1", {"predictions": [[0.25, 0.75], [0.5, 0.5]]}, 2).values
    assert probs.dtype == np.float32 and probs.shape == (2, 2)
    values = parse_response("v1", {"predictions": [[1.5], [2.5]]}, 2).values
    assert values.shape == (2,)
    named = parse_response("v1", {"predictions": [{"p": [0.1, 0.9]}]}, 1).values
    assert named.shape == (1, 2) and named[0].tolist() == pytest.approx([0.1, 0.9])


def test_v2_outputs_are_reshaped_and_picked_by_name() -> None:
    body = {
        "outputs": [
            {"name": "a", "shape": [2, 2], "datatype": "FP32", "data": [0.1, 0.9, 0.8, 0.2]},
            {"name": "b", "shape": [2], "datatype": "FP64", "data": [1.0, 2.0]},
        ]
    }
    assert parse_response("v2", body, 2, output="a").values.shape == (2, 2)
    assert parse_response("v2", body, 2, output="b").values.dtype == np.float64
    with pytest.raises(ProtocolError, match="choose one with --output"):
        parse_response("v2", body, 2)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"outputs": []}, '"predictions" list'),
        ({"predictions": [[0.1, 0.9]]}, "1 predictions for 2 rows"),
        ({"predictions": [[0.1], [0.1, 0.9]]}, "not numbers of one shape"),
        ({"predictions": [{"x": 1}, {"x": 2}]}, None),
    ],
)
def test_responses_that_break_the_protocol_are_named(body: object, message: str | None) -> None:
    if message is None:
        assert parse_response("v1", body, 2).values.tolist() == [1.0, 2.0]
        return
    with pytest.raises(ProtocolError, match=message):
        parse_response("v1", body, 2)


def test_kfstack_signature_outputs_give_probabilities_and_class_names() -> None:
    rows = [
        {"label": "yes", "probabilities": [0.25, 0.75], "classes": ["no", "yes"]},
        {"label": "no", "probabilities": [0.5, 0.5], "classes": ["no", "yes"]},
    ]
    answer = parse_response("v1", {"predictions": rows}, 2)
    assert answer.values.tolist() == [[0.25, 0.75], [0.5, 0.5]]
    assert answer.classes == ("no", "yes")
    with pytest.raises(ProtocolError, match="not numbers"):
        parse_response("v1", {"predictions": rows}, 2, output="label")
    v2 = {
        "outputs": [
            {"name": "label", "shape": [1], "datatype": "BYTES", "data": ["b"]},
            {"name": "probabilities", "shape": [1, 2], "datatype": "FP32", "data": [0.4, 0.6]},
            {"name": "classes", "shape": [1, 2], "datatype": "BYTES", "data": ["a", "b"]},
        ]
    }
    answer = parse_response("v2", v2, 1)
    assert answer.values.shape == (1, 2) and answer.classes == ("a", "b")
    value = parse_response("v1", {"predictions": [{"value": 3.5}]}, 1)
    assert value.values.tolist() == [3.5] and value.classes is None


def test_error_reason_reads_kserve_and_fastapi_bodies() -> None:
    assert error_reason('{"error": "Failed to process element: 0"}') == (
        "Failed to process element: 0"
    )
    assert error_reason(json.dumps({"detail": [{"msg": "bad"}]})) == '[{"msg": "bad"}]'
    assert error_reason("  upstream\n connect error ") == "upstream connect error"
    assert error_reason("") == "(empty response)"
    assert error_reason("x" * 1000).endswith("...") and len(error_reason("x" * 1000)) == 300


# -- batching --------------------------------------------------------------------------------


class FakeEndpoint:
    """Rejects any batch holding a bad row, as TF Serving does; predicts the row index."""

    def __init__(self, bad: dict[int, str]) -> None:
        self.bad = bad
        self.calls: list[list[int]] = []

    def __call__(self, rows: Sequence[int]) -> Reply:
        self.calls.append(list(rows))
        reasons = [self.bad[r] for r in rows if r in self.bad]
        if reasons:
            return Refused(reasons[0])
        return Accepted(np.array([[r, -r] for r in rows], dtype=np.float32))


def test_rejected_rows_are_isolated_and_the_others_predicted() -> None:
    endpoint = FakeEndpoint({3: "bad age", 17: "bad city", 18: "bad city"})
    done: list[int] = []
    outcome = predict_all(endpoint, 20, batch_size=8, on_batch=done.append)
    assert done == [8, 8, 4]
    assert outcome.rejected == {3: "bad age", 17: "bad city", 18: "bad city"}
    assert outcome.accepted.tolist() == [r for r in range(20) if r not in (3, 17, 18)]
    assert outcome.stacked()[:, 0].tolist() == outcome.accepted.tolist()
    assert [(j.reason, j.rows) for j in outcome.rejections()] == [
        ("bad city", (17, 18)),
        ("bad age", (3,)),
    ]
    assert outcome.requests == len(endpoint.calls)
    assert max(len(c) for c in endpoint.calls) == 8


def test_after_the_isolate_limit_whole_batches_count_as_rejected() -> None:
    endpoint = FakeEndpoint(dict.fromkeys(range(100), "schema mismatch"))
    outcome = predict_all(endpoint, 100, batch_size=10, isolate_limit=3)
    assert len(outcome.rejected) == 100 and not outcome.predictions
    assert outcome.rejected[0] == "schema mismatch"
    assert outcome.rejected[99] == "schema mismatch (a batch of 10 rows, not searched row by row)"
    assert outcome.requests < 40  # not one request per row


def test_a_clean_run_sends_one_request_per_batch() -> None:
    endpoint = FakeEndpoint({})
    outcome = predict_all(endpoint, 10, batch_size=4)
    assert outcome.requests == 3 and len(outcome.predictions) == 10


# -- scoring ---------------------------------------------------------------------------------


def test_scores_are_the_ml_package_metrics() -> None:
    labels = np.array(["yes", "no", "yes", "no"], dtype=object)
    proba = np.array([[0.2, 0.8], [0.7, 0.3], [0.6, 0.4], [0.9, 0.1]], dtype=np.float32)
    result = score(labels, proba)
    expected = classification_metrics(np.array([1, 0, 1, 0]), proba)
    assert result.metrics == expected
    assert result.classes == ("no", "yes")
    assert result.confusion == [[2, 0], [1, 1]]


def test_class_order_follows_data_build_and_can_be_given() -> None:
    assert default_classes(["10", "9", "2"]) == ("2", "9", "10")
    assert default_classes(["b", "a"]) == ("a", "b")
    labels = np.array(["a", "b"], dtype=object)
    proba = np.array([[0.9, 0.1], [0.2, 0.8]], dtype=np.float32)
    assert score(labels, proba).metrics["accuracy"] == 1.0
    assert score(labels, proba, classes=("b", "a")).metrics["accuracy"] == 0.0


def test_labels_and_outputs_that_do_not_fit_say_what_to_pass() -> None:
    proba = np.full((2, 3), 1 / 3, dtype=np.float32)
    with pytest.raises(ScoreError, match="3 class probabilities, but there are 2"):
        score(np.array(["a", "b"], dtype=object), proba)
    with pytest.raises(ScoreError, match=r"\['c'\] are not among"):
        score(np.array(["a", "c"], dtype=object), proba[:, :2], classes=("a", "b"))
    with pytest.raises(ScoreError, match="not numbers"):
        score(np.array(["a", "b"], dtype=object), np.array([1.0, 2.0]))


def test_regression_scores() -> None:
    result = score(np.array(["1.0", "3.0"], dtype=object), np.array([2.0, 3.0], np.float32))
    assert result.task == "regression"
    assert result.metrics == {"mae": 0.5, "rmse": pytest.approx(0.5**0.5), "loss": 0.5, "rows": 2}


# -- drift -----------------------------------------------------------------------------------


def test_accuracy_is_strict_and_loss_relative_by_default() -> None:
    before = {"accuracy": 0.9, "auc": 0.95, "loss": 0.30, "rows": 100.0}
    same = compare(before, dict(before), Tolerances())
    assert [c.metric for c in same] == ["accuracy", "auc", "loss"] and drifted(same) == []
    moved = compare(before, {**before, "accuracy": 0.89, "loss": 0.3002}, Tolerances())
    assert drifted(moved) == ["accuracy"]
    worse = {c.metric: c for c in moved}
    assert worse["accuracy"].direction == "worse" and worse["loss"].direction == "worse"
    assert drifted(compare(before, {**before, "loss": 0.31}, Tolerances())) == ["loss"]
    assert drifted(compare(before, {**before, "loss": 0.29}, Tolerances())) == ["loss"]


def test_one_wrong_row_of_another_holdout_is_not_drift() -> None:
    """The issue's case: 1.0 offline on 15 rows, 68 of 69 right on another holdout."""
    before = {"accuracy": 1.0, "loss": 0.05, "rows": 15.0}
    after = {"accuracy": 68 / 69, "loss": 0.09, "rows": 69.0}
    checks = {
        c.metric: c for c in compare(before, after, Tolerances(), rows_before=15, rows_after=69)
    }
    accuracy = checks["accuracy"]
    assert accuracy.interval is not None and accuracy.interval[0] < 0 < accuracy.interval[1]
    assert not accuracy.drifted and "95% interval" in accuracy.rule
    assert not checks["loss"].judged and not checks["loss"].drifted  # shown, not judged


def test_a_real_drop_on_another_holdout_is_drift() -> None:
    before = {"accuracy": 0.98, "rows": 200.0}
    checks = compare(before, {"accuracy": 0.80}, Tolerances(), rows_before=200, rows_after=150)
    (accuracy,) = checks
    assert accuracy.interval is not None and accuracy.interval[1] < 0 and accuracy.drifted


def test_the_same_rows_stay_strict() -> None:
    before = {"accuracy": 1.0, "rows": 69.0}
    (same_rows,) = compare(
        before, {"accuracy": 68 / 69}, Tolerances(), rows_before=69, rows_after=69
    )
    assert same_rows.drifted and same_rows.interval is None
    (unknown,) = compare({"accuracy": 1.0}, {"accuracy": 68 / 69}, Tolerances(), rows_after=69)
    assert unknown.drifted  # no offline row count: judged as the same rows


@pytest.mark.parametrize(
    ("share", "rows", "low", "high"),
    [(1.0, 15, 15 / (15 + 1.96**2), 1.0), (0.5, 10, 0.2366, 0.7634), (0.0, 20, 0.0, 0.1611)],
)
def test_wilson_intervals_match_published_values(
    share: float, rows: int, low: float, high: float
) -> None:
    assert wilson(share, rows) == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))


def test_newcombe_interval_matches_his_worked_example() -> None:
    """Newcombe (1998), example (a): 56/70 vs 48/80, hybrid score interval 0.0524 to 0.3339."""
    low, high = difference_interval(48 / 80, 80, 56 / 70, 70)
    assert (low, high) == (pytest.approx(0.0524, abs=1e-4), pytest.approx(0.3339, abs=1e-4))


def test_tolerance_flags() -> None:
    tolerances = parse_tolerances(["accuracy=0.02", "loss=0.1"])
    assert tolerances.of("accuracy") == (0.02, "absolute")
    assert tolerances.of("auc") == (0.0, "absolute")
    assert tolerances.of("rmse") == (1e-3, "relative")
    everything = parse_tolerances(["0.5", "auc=0"])
    assert everything.of("loss") == (0.5, "relative") and everything.of("auc") == (0.0, "absolute")
    for bad in ("accuracy=x", "-1", "nan"):
        with pytest.raises(ValueError, match="METRIC=VALUE"):
            parse_tolerances([bad])


# -- targets and auth ------------------------------------------------------------------------


def test_canary_by_tag_header_or_by_its_own_url() -> None:
    route = resolve_route("http://gw/v1/models/iris:predict", model="iris", protocol=None)
    both = resolve_targets(route, "both")
    assert [t.name for t in both] == ["default", "canary"]
    assert both[0].headers == {} and both[1].headers == {TAG_HEADER: "latest"}
    (canary,) = resolve_targets(
        route, "canary", canary_url="http://latest-iris-predictor.ds.example.com"
    )
    assert canary.url == "http://latest-iris-predictor.ds.example.com/v1/models/iris:predict"
    assert canary.headers == {}
    with pytest.raises(ValueError, match="--target"):
        resolve_targets(route, "blue")


def test_auth_from_flags_and_environment(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("abc\n")
    auth = load_auth(token_file=token, cookie="session-value", env={})
    assert auth.headers() == {
        "Authorization": "Bearer abc",
        "Cookie": f"{DEFAULT_COOKIE}=session-value",
    }
    assert auth.kind == f"bearer token + cookie {DEFAULT_COOKIE}"
    from_env = load_auth(token_file=None, cookie=None, env={"KFSTACK_COOKIE": "a=b"})
    assert from_env.headers() == {"Cookie": "a=b"} and Auth().headers() == {}
    (tmp_path / "empty").write_text("")
    with pytest.raises(ValueError, match="empty"):
        load_auth(token_file=tmp_path / "empty", cookie=None, env={})
    with pytest.raises(ValueError, match="cannot read"):
        load_auth(token_file=tmp_path / "missing", cookie=None, env={})


# -- holdout ---------------------------------------------------------------------------------

INPUTS = (
    InputColumn(name="age", kind="numeric", dtype="float32"),  # type: ignore[arg-type]
    InputColumn(name="income_k", kind="numeric", dtype="float32"),  # type: ignore[arg-type]
    InputColumn(name="city", kind="categorical", dtype="string"),  # type: ignore[arg-type]
)


def test_raw_headers_are_matched_by_their_sanitized_key(tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    path.write_text("age,income (k),city,label\n30,50.5,Paris,yes\n,20,NA,no\n")
    holdout = read_holdout(path, INPUTS)
    assert holdout.label_column == "label" and holdout.rows == 2
    assert holdout.features["income_k"].dtype == np.float32
    assert np.isnan(holdout.features["age"][1])
    assert holdout.features["city"].tolist() == ["Paris", ""]
    assert holdout.label.tolist() == ["yes", "no"]
    # a built split has keys as header: the label's header name still finds its column
    split = tmp_path / "split.csv"
    split.write_text("age,income_k,city,income_class\n30,50.5,Paris,high\n")
    assert read_holdout(split, INPUTS, label="income class").label_column == "income_class"


def test_holdout_problems_are_listed_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("age,city,label,extra\n30,Paris,yes,1\n")
    with pytest.raises(DataError) as err:
        read_holdout(path, INPUTS)
    text = str(err.value)
    assert "the model's input 'income_k' is not in the header" in text
    assert "pass --label" in text
    path.write_text("age,income_k,city,label\n30,1,Paris,yes\n31,2,Nice,\n")
    with pytest.raises(DataError, match="line 3, column 'label': missing label"):
        read_holdout(path, INPUTS)
    path.write_text("age,income_k,city,y\n30,x,Paris,yes\n")
    with pytest.raises(DataError, match="line 2, column 'income_k': expected a number"):
        read_holdout(path, INPUTS, label="y")


def _tf_serving_float(value: np.float32) -> str:
    """How TF Serving's json_tensor.cc WriteDecimal prints a float32: `%g` (6 digits) when
    that reads back as the same float, else `%.9g` (max_digits10)."""
    text = f"{value:g}"
    return text if np.float32(float(text)) == value else f"{value:.9g}"


def test_tf_serving_float_text_reads_back_as_the_same_float32() -> None:
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet([1.0, 1.0], size=500).astype(np.float32)
    text = (
        "["
        + ",".join("[" + ",".join(_tf_serving_float(v) for v in row) + "]" for row in probabilities)
        + "]"
    )
    parsed = parse_response("v1", json.loads(f'{{"predictions": {text}}}'), 500).values
    assert parsed.dtype == np.float32
    assert np.array_equal(parsed, probabilities)
