"""`kfstack serve check`: the served model measured through its endpoint, beside offline metrics.

Exit status: 0 when every target reproduces the release's offline metrics, 1 when a metric
drifts beyond its tolerance or rows are rejected, 2 for bad input (files, options), 3 when
the endpoint fails (timeout, connection, 401/403, redirect to a login, 404, 5xx).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from kfstack.cli.frame import Failure, Subparsers, add_command, command_group, guard, options
from kfstack.cli.output import console

if TYPE_CHECKING:
    from ml.servecheck.drift import MetricCheck
    from ml.servecheck.run import CheckRequest, CheckResult

PASSED, FAILED, ENDPOINT_FAILED = 0, 1, 3
CHECK_HELP = "send held-out rows through the predict API; compare with the offline metrics"


def register(subparsers: Subparsers) -> None:
    """Add the `serve` command group with `check`."""
    commands = command_group(subparsers, "serve", "check the served model through its endpoint")
    check = add_command(commands, "check", CHECK_HELP, description=__doc__)
    check.add_argument("--endpoint", required=True, help="predict URL, or the service's base URL")
    check.add_argument("--csv", type=Path, required=True, help="held-out rows with their labels")
    check.add_argument("--release", type=Path, default=Path("build/release.json"))
    check.add_argument("--out", type=Path, default=Path("build/serving-check"))
    check.add_argument("--protocol", choices=["v1", "v2"], help="default: from the URL, else v1")
    check.add_argument("--model", help="model name (default: the release's name)")
    check.add_argument("--label", help="label column (default: the one column not an input)")
    check.add_argument("--classes", nargs="+", metavar="CLASS", help="in the model's output order")
    check.add_argument("--schema", type=Path, help="a dataset's schema.json (label and classes)")
    check.add_argument("--target", choices=["default", "canary", "both"], default="default")
    check.add_argument("--canary-url", help="the canary revision's URL (else a tag header)")
    check.add_argument("--token-file", type=Path, help="bearer token file (service account)")
    check.add_argument("--cookie", help="NAME=VALUE, or a value of oauth2_proxy_kubeflow")
    check.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'")
    check.add_argument("--batch-size", type=int, default=256)
    check.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    check.add_argument(
        "--tolerance",
        action="append",
        default=[],
        metavar="[METRIC=]VALUE",
        help="absolute for accuracy/auc (default 0), relative for loss/mae/rmse (0.001)",
    )
    check.add_argument("--max-rejected", type=int, default=0, help="rejected rows allowed")
    check.add_argument("--output", help="the model output to read when it has several")
    check.add_argument("--delimiter", default=",")
    check.set_defaults(handler=guard(_check, _endpoint_failures))


def _headers(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"--header {item!r}: expected 'NAME: VALUE'")
        out[name.strip()] = value.strip()
    return out


def _request(args: argparse.Namespace) -> CheckRequest:
    from ml.servecheck.client import load_auth
    from ml.servecheck.drift import parse_tolerances
    from ml.servecheck.run import CheckRequest

    if args.batch_size < 1 or args.timeout <= 0 or args.max_rejected < 0:
        raise ValueError("--batch-size must be >= 1, --timeout > 0 and --max-rejected >= 0")
    same = ["endpoint", "csv", "release", "protocol", "model", "label", "schema", "batch_size"]
    same += ["timeout", "target", "canary_url", "output", "max_rejected", "delimiter"]
    return CheckRequest(
        **options(args, *same),
        classes=tuple(args.classes) if args.classes else None,
        tolerances=parse_tolerances(args.tolerance),
        auth=load_auth(token_file=args.token_file, cookie=args.cookie),
        headers=_headers(args.header),
    )


def _endpoint_failures() -> Iterator[Failure]:
    from ml.servecheck.client import EndpointError

    yield Failure(EndpointError, ENDPOINT_FAILED)


def _check(args: argparse.Namespace) -> int:
    return _run(_request(args), args.out)


def _run(request: CheckRequest, out: Path) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ml.servecheck.chart import write_chart
    from ml.servecheck.report import CHART_FILE, report, write_report
    from ml.servecheck.run import run_check

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console(stderr=True), transient=True) as bars:

        def track(name: str, rows: int) -> Callable[[int], None]:
            task = bars.add_task(f"{name}: rows", total=rows)
            return lambda done: bars.advance(task, done)

        result = run_check(request, progress=track)
    chart = None
    checks: dict[str, Sequence[MetricCheck]] = {
        r.target.name: r.checks for r in result.results if r.checks
    }
    if checks:
        title = f"{result.release.name} v{result.release.version}: offline vs {result.route.url}"
        chart = write_chart(checks, title, out / CHART_FILE)
    path = write_report(report(result, chart=chart), out)
    _summary(result)
    console().print(f"wrote {path}" + (f" and {chart}" if chart else ""))
    for note in result.notes:
        console().print(f"note: {note}", soft_wrap=True)
    for line in result.failures:
        console(stderr=True).print(f"FAILED {line}", soft_wrap=True)
    return PASSED if result.passed else FAILED


def _summary(result: CheckResult) -> None:
    for r in result.results:
        outcome = r.outcome
        table = Table(
            title=f"{r.target.name}: {r.target.how} ({len(outcome.predictions)} of "
            f"{outcome.rows} rows accepted, {len(outcome.rejected)} rejected)"
        )
        for title in ("metric", "before (offline)", "after (endpoint)", "difference", "verdict"):
            table.add_column(title)
        for c in r.checks:
            verdict = "DRIFT" if c.drifted else ("ok" if c.judged else "not judged")
            table.add_row(
                c.metric, f"{c.before:.6g}", f"{c.after:.6g}", f"{c.difference:+.3g}", verdict
            )
        console().print(table)
        for j in outcome.rejections():
            console().print(f"  rejected {len(j.rows)} rows: {j.reason}", soft_wrap=True)
