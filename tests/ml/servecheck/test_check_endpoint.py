"""Acceptance: `kfstack serve check` against a KServe v1/v2 stub serving the exported model."""

from __future__ import annotations

import csv
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ml.servecheck.conftest import MODEL, Served
from tests.ml.servecheck.kserve_stub import Behaviour, StubServer

pytestmark = pytest.mark.slow

Kfstack = Callable[[list[str]], int]
Capsys = pytest.CaptureFixture[str]


def check(
    kfstack: Kfstack, served: Served, endpoint: str, out: Path, *extra: str
) -> tuple[int, dict[str, Any] | None]:
    argv = ["serve", "check", "--endpoint", endpoint, "--csv", str(served.holdout)]
    argv += ["--release", str(served.release), "--out", str(out), *extra]
    status = kfstack(argv)
    report = out / "serving-check.json"
    return status, json.loads(report.read_text()) if report.is_file() else None


@dataclass(frozen=True)
class Checking:
    """`kfstack serve check` of the session's model against this test's stub, and its stderr."""

    kfstack: Kfstack
    served: Served
    server: StubServer
    tmp_path: Path
    capsys: Capsys

    def __call__(self, *extra: str, out: Path | None = None) -> tuple[int, dict[str, Any] | None]:
        endpoint = self.server.predict_url
        return check(self.kfstack, self.served, endpoint, out or self.tmp_path, *extra)

    def err(self) -> str:
        return " ".join(self.capsys.readouterr().err.split())


@pytest.fixture
def checking(
    kfstack: Kfstack, served: Served, server: StubServer, tmp_path: Path, capsys: Capsys
) -> Checking:
    return Checking(kfstack, served, server, tmp_path, capsys)


def lower_city(row: dict[str, Any]) -> dict[str, Any]:
    """The skew of a broken transformer: the category sent lower-cased."""
    return {**row, "city": row["city"].lower()}


def holdout_rows(served: Served) -> list[dict[str, str]]:
    with served.holdout.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_reproduces_the_offline_metrics_exactly(
    kfstack: Kfstack, served: Served, server: StubServer, tmp_path: Path
) -> None:
    status, report = check(kfstack, served, server.predict_url, tmp_path)
    assert status == 0
    assert report is not None and report["passed"] is True and report["failures"] == []
    assert report["notes"] == []
    (target,) = report["targets"]
    rows = int(served.metrics["rows"])
    assert target["rows"] == {"sent": rows, "accepted": rows, "rejected": 0}
    assert target["requests"] == -(-rows // 256)  # batches of the default size, no retries
    compared = {c["metric"]: c for c in target["checks"]}
    assert set(compared) == {"accuracy", "auc", "loss"}
    for name, c in compared.items():
        assert c["after"] == served.metrics[name], name
        assert c["difference"] == 0.0 and not c["drifted"]
    assert sum(map(sum, target["confusion"])) == rows
    assert target["classes"] == ["no", "yes"]


def test_v2_protocol_from_a_base_url_reproduces_too(
    kfstack: Kfstack, served: Served, server: StubServer, tmp_path: Path
) -> None:
    status, report = check(
        kfstack, served, server.url, tmp_path, "--protocol", "v2", "--batch-size", "64"
    )
    assert status == 0
    assert report is not None and report["endpoint"] == f"{server.url}/v2/models/{MODEL}/infer"
    assert {c["metric"]: c["after"] for c in report["targets"][0]["checks"]} == {
        k: v for k, v in served.metrics.items() if k != "rows"
    }


def test_a_lower_cased_category_fails_and_names_the_drifted_metrics(checking: Checking) -> None:
    checking.server.default.skew = lower_city
    status, report = checking()
    assert status == 1
    assert report is not None and report["passed"] is False
    drifted = report["targets"][0]["drifted"]
    assert "accuracy" in drifted and "loss" in drifted
    err = checking.err()
    assert "metrics drifted beyond tolerance" in err
    for name in drifted:
        assert name in err
    # a loose enough tolerance lets the same skew pass: the flag is what decides
    status, _ = checking("--tolerance", "10", out=checking.tmp_path / "loose")
    assert status == 0


def test_rejected_rows_are_counted_with_the_servers_reason(
    kfstack: Kfstack, served: Served, server: StubServer, tmp_path: Path
) -> None:
    def reject(row: dict[str, Any]) -> str | None:
        return f"income (k) {row['income_k']} out of range" if row["income_k"] > 80 else None

    server.default.reject = reject
    expected = [i for i, r in enumerate(holdout_rows(served)) if float(r["income_k"]) > 80]
    assert 3 <= len(expected) < 50
    status, report = check(kfstack, served, server.predict_url, tmp_path)
    assert status == 1
    assert report is not None
    target = report["targets"][0]
    rows = int(served.metrics["rows"])
    assert target["rows"] == {
        "sent": rows,
        "accepted": rows - len(expected),
        "rejected": len(expected),
    }
    lines = sorted(line for r in target["rejected"] for line in r["lines"])
    assert lines == [i + 2 for i in expected]  # header is line 1
    assert all("out of range" in r["reason"] for r in target["rejected"])
    assert any("rows rejected" in f for f in report["failures"])


@pytest.mark.parametrize(
    "case", [(401, "not authenticated"), (403, "not allowed"), (500, "server error")]
)
def test_auth_and_server_errors_name_the_endpoint_and_status(
    kfstack: Kfstack,
    served: Served,
    server: StubServer,
    capsys: pytest.CaptureFixture[str],
    case: tuple[int, str],
) -> None:
    status, words = case
    server.default.status = status
    out = served.holdout.parent / f"never-written-{status}"
    code, report = check(kfstack, served, server.predict_url, out)
    assert code == 3
    assert report is None
    err = " ".join(capsys.readouterr().err.split())
    assert f"{server.predict_url}: HTTP {status}" in err
    assert words in err
    assert f"injected status {status}" in err


def test_a_timeout_is_a_clear_error(checking: Checking) -> None:
    checking.server.default.sleep = 1.0
    code, _ = checking("--timeout", "0.05")
    assert code == 3
    err = checking.err()
    assert checking.server.predict_url in err and "(timeout)" in err


def test_a_refused_connection_is_a_clear_error(
    kfstack: Kfstack, served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1/models/{MODEL}:predict"
    code, _ = check(kfstack, served, url, tmp_path)
    assert code == 3
    assert "cannot connect" in capsys.readouterr().err


def test_a_service_account_token_file_is_sent_as_bearer(
    kfstack: Kfstack, served: Served, server: StubServer, tmp_path: Path
) -> None:
    server.default.token = "sa-token-123"
    token = tmp_path / "token"
    token.write_text("sa-token-123\n")
    status, report = check(
        kfstack, served, server.predict_url, tmp_path, "--token-file", str(token)
    )
    assert status == 0
    assert report is not None and report["auth"] == "bearer token"
    assert "sa-token-123" not in json.dumps(report)


def test_the_url_naming_another_model_is_bad_input(
    kfstack: Kfstack, served: Served, server: StubServer, tmp_path: Path
) -> None:
    url = f"{server.url}/v1/models/other:predict"
    status, _ = check(kfstack, served, url, tmp_path)
    assert status == 2
    assert server.requests == []


def test_canary_and_default_are_checked_and_reported_separately(
    kfstack: Kfstack, served: Served, server: StubServer, tmp_path: Path
) -> None:
    server.canary = Behaviour(skew=lower_city)
    status, report = check(kfstack, served, server.predict_url, tmp_path, "--target", "both")
    assert status == 1
    assert report is not None
    default, canary = report["targets"]
    assert (default["name"], canary["name"]) == ("default", "canary")
    assert default["drifted"] == [] and "accuracy" in canary["drifted"]
    assert "Knative-Serving-Tag: latest" in canary["request"]
    assert all(f.startswith("canary:") for f in report["failures"])
    assert any(n.startswith("canary: reached with a tag header") for n in report["notes"])
    tagged = [r for r in server.requests if r["headers"].get("Knative-Serving-Tag") == "latest"]
    assert len(tagged) == canary["requests"]


def test_the_chart_has_before_and_after_for_each_metric(
    kfstack: Kfstack, served: Served, server: StubServer, tmp_path: Path
) -> None:
    from matplotlib import image

    from ml.servecheck.chart import figure
    from ml.servecheck.run import CheckRequest, run_check

    server.canary = Behaviour(skew=lower_city)
    status, report = check(kfstack, served, server.predict_url, tmp_path, "--target", "both")
    assert status == 1 and report is not None
    png = Path(report["chart"])
    assert png == tmp_path / "serving-check.png"
    pixels = image.imread(png)
    assert pixels.shape[0] > 300 and pixels.shape[1] > 300
    assert pixels.std() > 0  # not a blank canvas

    request = CheckRequest(
        endpoint=server.predict_url, csv=served.holdout, release=served.release, target="both"
    )
    result = run_check(request)
    fig = figure({r.target.name: r.checks for r in result.results}, "title")
    top, bottom = fig.axes
    series = {c.get_label(): [b.get_height() for b in c] for c in top.containers}
    names = [t.get_text() for t in top.get_xticklabels()]
    assert names == ["accuracy", "auc", "loss"]
    assert series["before: offline"] == [served.metrics[n] for n in names]
    assert series["after: default"] == [served.metrics[n] for n in names]
    assert series["after: canary"] != series["before: offline"]
    differences = {c.get_label(): [b.get_height() for b in c] for c in bottom.containers}
    assert differences["after - before: default"] == [0.0, 0.0, 0.0]
    canary = {c.metric: c for c in result.results[1].checks}
    assert differences["after - before: canary"] == [canary[n].difference for n in names]


def test_a_redirect_to_the_login_page_is_an_auth_error(
    kfstack: Kfstack, served: Served, server: StubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.default.status = 302
    out = served.holdout.parent / "never-written-302"
    code, report = check(kfstack, served, server.predict_url, out, "--header", "Host: x.example")
    assert code == 3 and report is None
    err = " ".join(capsys.readouterr().err.split())
    assert f"{server.predict_url}: HTTP 302" in err and "--token-file" in err
    assert server.requests[0]["headers"]["Host"] == "x.example"


def test_a_holdout_without_an_input_is_bad_input_and_sends_nothing(
    kfstack: Kfstack,
    server: StubServer,
    served: Served,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = holdout_rows(served)
    path = tmp_path / "no-city.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=[k for k in rows[0] if k != "city"])
        writer.writeheader()
        writer.writerows({k: v for k, v in r.items() if k != "city"} for r in rows)
    argv = ["serve", "check", "--endpoint", server.predict_url, "--csv", str(path)]
    status = kfstack([*argv, "--release", str(served.release), "--out", str(tmp_path / "o")])
    assert status == 2
    assert "the model's input 'city' is not in the header" in capsys.readouterr().err
    assert server.requests == []


def test_class_order_from_the_model_then_the_schema_or_the_classes_flag(
    kfstack: Kfstack, served: Served, server: StubServer, tmp_path: Path
) -> None:
    # the model names its classes (kfstack's `classes` output): a wrong --classes is noted
    status, report = check(
        kfstack, served, server.predict_url, tmp_path / "named", "--classes", "yes", "no"
    )
    assert status == 0 and report is not None
    assert report["targets"][0]["classes"] == ["no", "yes"]
    assert any("the model names its classes ['no', 'yes']" in n for n in report["notes"])
    # a model answering with probabilities only: the order comes from the flags
    server.default.outputs = ("probabilities",)
    schema = served.dataset / "schema.json"
    status, report = check(kfstack, served, server.predict_url, tmp_path, "--schema", str(schema))
    assert status == 0 and report is not None
    assert report["targets"][0]["classes"] == ["no", "yes"]
    # the wrong output order is a different model as far as the metrics can tell
    status, report = check(
        kfstack, served, server.predict_url, tmp_path / "swapped", "--classes", "yes", "no"
    )
    assert status == 1 and report is not None
    assert {"accuracy", "auc"} <= set(report["targets"][0]["drifted"])


def test_a_holdout_other_than_the_offline_split_is_noted(
    kfstack: Kfstack, served: Served, server: StubServer, tmp_path: Path
) -> None:
    rows = holdout_rows(served)[:100]
    path = tmp_path / "part.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    argv = ["serve", "check", "--endpoint", server.predict_url, "--csv", str(path)]
    argv += ["--release", str(served.release), "--out", str(tmp_path / "o"), "--tolerance", "1"]
    assert kfstack(argv) == 0
    report = json.loads((tmp_path / "o" / "serving-check.json").read_text())
    assert report["targets"][0]["rows"]["sent"] == 100
    assert any("holdout has 100 rows" in n for n in report["notes"])
