"""One serving check: release + holdout -> each target's predictions, metrics and verdict.

This is the shell that ties the pure parts together (holdout reader, protocol, batching,
scoring, drift) with the HTTP client; it writes nothing (see `report` and `chart`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ml.data import DatasetSchema, read_schema
from ml.model_release import ModelRelease, load_release
from ml.servecheck.batching import Outcome, predict_all
from ml.servecheck.client import Auth, HttpSender
from ml.servecheck.drift import MetricCheck, Tolerances, compare
from ml.servecheck.holdout import Holdout, read_holdout
from ml.servecheck.protocol import Protocol, Route, resolve_route
from ml.servecheck.score import Score, score
from ml.servecheck.targets import Target, resolve_targets

#: Called with a target's name and its row count; returns the per-batch progress callback.
Progress = Callable[[str, int], Callable[[int], None]]


@dataclass(frozen=True, kw_only=True)
class CheckRequest:
    """What `kfstack serve check` was asked (see its --help for each option)."""

    endpoint: str
    protocol: Protocol | None = None
    model: str | None = None
    csv: Path
    release: Path
    label: str | None = None
    classes: tuple[str, ...] | None = None
    schema: Path | None = None
    batch_size: int = 256
    timeout: float = 30.0
    tolerances: Tolerances = field(default_factory=Tolerances)
    target: str = "default"
    canary_url: str | None = None
    auth: Auth = field(default_factory=Auth)
    headers: Mapping[str, str] = field(default_factory=dict)
    output: str | None = None
    max_rejected: int = 0
    delimiter: str = ","


@dataclass(frozen=True)
class TargetResult:
    """What one revision did with the holdout."""

    target: Target
    outcome: Outcome
    score: Score | None
    checks: list[MetricCheck]

    @property
    def drifted(self) -> list[str]:
        """The metrics that drifted beyond their tolerance."""
        return [c.metric for c in self.checks if c.drifted]


@dataclass(frozen=True)
class CheckResult:
    """The whole check: inputs as resolved, and one result per target."""

    request: CheckRequest
    release: ModelRelease
    holdout: Holdout
    route: Route
    results: list[TargetResult]

    @property
    def failures(self) -> list[str]:
        """Why the check fails, one line per problem (empty when it passes)."""
        out = []
        for r in self.results:
            name = r.target.name
            if r.score is None:
                out.append(f"{name}: the endpoint accepted none of {self.holdout.rows} rows")
            rejected = len(r.outcome.rejected)
            if rejected > self.request.max_rejected:
                reasons = "; ".join(
                    f"{len(j.rows)} x {j.reason}" for j in r.outcome.rejections()[:3]
                )
                out.append(
                    f"{name}: {rejected} of {self.holdout.rows} rows rejected "
                    f"(allowed {self.request.max_rejected}): {reasons}"
                )
            if r.drifted:
                details = ", ".join(
                    f"{c.metric} {c.before:.6g} -> {c.after:.6g}" for c in r.checks if c.drifted
                )
                out.append(f"{name}: metrics drifted beyond tolerance: {details}")
        return out

    @property
    def notes(self) -> list[str]:
        """What a reader should know that does not fail the check."""
        out = []
        offline = self.release.metrics.get("rows")
        if offline is not None and int(offline) != self.holdout.rows:
            out.append(
                f"the holdout has {self.holdout.rows} rows, the offline evaluation had "
                f"{int(offline)}: not the same rows, so accuracy is judged by the 95% interval "
                "of the difference and other metrics are shown, not judged"
            )
        if offline is None:
            out.append(
                "the release does not say how many rows its offline metrics had: judged as "
                "the same rows (strict)"
            )
        task = self.release.labels.get("kfstack.io/task")
        for r in self.results:
            if task and r.score is not None and r.score.task != task:
                out.append(f"{r.target.name}: the release is {task}, the answers {r.score.task}")
            given = self.request.classes
            if given and r.outcome.classes and tuple(given) != r.outcome.classes:
                out.append(
                    f"{r.target.name}: the model names its classes {list(r.outcome.classes)}; "
                    f"used those, not --classes {list(given)}"
                )
            if r.target.headers:
                out.append(
                    f"{r.target.name}: reached with a tag header, which routes only where "
                    "Knative's tag-header-based-routing is on and the tag exists; "
                    "--canary-url is unambiguous"
                )
        return out

    @property
    def passed(self) -> bool:
        """Whether every target reproduced the offline metrics."""
        return not self.failures


def _schema(path: Path | None) -> DatasetSchema | None:
    """A dataset's schema.json: its file, its directory, or a model version's assets.extra."""
    if path is None:
        return None
    path = Path(path)
    if path.is_file():
        path = path.parent
    if (path / "assets.extra").is_dir():
        path = path / "assets.extra"
    return read_schema(path)


def run_check(request: CheckRequest, *, progress: Progress | None = None) -> CheckResult:
    """Send the holdout through each target and compare with the release's offline metrics.

    Raises:
        ReleaseError: the release record cannot be read.
        DataError: the holdout CSV is unreadable or lacks an input or labels.
        ValueError: bad options (endpoint, target, schema).
        EndpointError: a timeout, refused connection, auth failure or server error.
        ScoreError: labels and predictions that cannot be scored together.

    """
    release = load_release(request.release)
    route = resolve_route(
        request.endpoint, model=request.model or release.name, protocol=request.protocol
    )
    targets = resolve_targets(route, request.target, canary_url=request.canary_url)
    schema = _schema(request.schema)
    label = request.label or (schema.label.name if schema is not None else None)
    holdout = read_holdout(
        request.csv, release.input_schema, label=label, delimiter=request.delimiter
    )
    known = request.classes or (schema.label.classes if schema is not None else None)
    results = []
    for target in targets:
        sender = HttpSender(
            target,
            route.protocol,
            holdout.features,
            headers={**request.headers, **request.auth.headers()},
            timeout=request.timeout,
            output=request.output,
            dtypes={c.name: c.dtype for c in release.input_schema},
        )
        advance = progress(target.name, holdout.rows) if progress is not None else None
        try:
            outcome = predict_all(
                sender, holdout.rows, batch_size=request.batch_size, on_batch=advance
            )
        finally:
            sender.close()
        measured = None
        checks: list[MetricCheck] = []
        if outcome.predictions:
            # the model's own class names (kfstack's `classes` output) come first
            classes = outcome.classes or known
            measured = score(holdout.label[outcome.accepted], outcome.stacked(), classes)
            offline_rows = release.metrics.get("rows")
            checks = compare(
                release.metrics,
                measured.metrics,
                request.tolerances,
                rows_before=None if offline_rows is None else int(offline_rows),
                rows_after=holdout.rows,
            )
        results.append(TargetResult(target, outcome, measured, checks))
    return CheckResult(request, release, holdout, route, results)
