"""The release's allowed exceptions: policy errors its own objects raise on purpose.

Read from `catalogue/tables/policy-allowed.toml` (data, one entry per exception, with its
reason). `allow(findings, release)` turns each error an entry matches into an "allowed"
finding that keeps the reason, so the plan lists what is allowed and why.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from infra.kubeflow.catalogue.load import TABLES
from infra.kubeflow.errors import PlanError
from infra.kubeflow.objects import Finding, ObjectMatch

__all__ = ["ALLOWED_TABLE", "AllowedException", "allow", "allowed_exceptions"]

ALLOWED_TABLE = TABLES / "policy-allowed.toml"
_FIELDS = frozenset({"rule", "object", "reason", "releases"})


@dataclass(frozen=True)
class AllowedException:
    """One entry: the errors of `rule` on the objects `match` selects, allowed for `reason`."""

    rule: str
    match: ObjectMatch
    reason: str
    releases: tuple[str, ...] | None  # None: every release

    def covers(self, finding: Finding, release: str) -> bool:
        """Return whether this entry allows `finding` of a plan of `release`."""
        return (
            finding.severity == "error"
            and finding.rule == self.rule
            and finding.key is not None
            and self.match.matches(finding.key)
            and (self.releases is None or release in self.releases)
        )


def _entry(raw: object, where: str) -> AllowedException:
    if (
        not isinstance(raw, dict)
        or set(raw) - _FIELDS
        or not {"rule", "object", "reason"} <= set(raw)
    ):
        raise PlanError(
            [f"{where}: an entry has rule, object, reason and optionally releases (got {raw!r})"]
        )
    releases = raw.get("releases")
    if releases is not None and not (
        isinstance(releases, list) and all(isinstance(r, str) for r in releases)
    ):
        raise PlanError([f"{where}: releases must be a list of release names"])
    try:
        match = ObjectMatch.parse(str(raw["object"]))
    except ValueError as exc:
        raise PlanError([f"{where}: {exc}"]) from exc
    return AllowedException(
        str(raw["rule"]), match, str(raw["reason"]), None if releases is None else tuple(releases)
    )


@functools.cache
def allowed_exceptions(path: Path = ALLOWED_TABLE) -> tuple[AllowedException, ...]:
    """Return the entries of the allowed-exceptions table.

    Raises:
        PlanError: an entry is malformed (names the file and the entry).
    """
    with path.open("rb") as handle:
        table = tomllib.load(handle)
    return tuple(
        _entry(raw, f"{path.name}: allow[{i}]") for i, raw in enumerate(table.get("allow", []))
    )


def allow(
    findings: Sequence[Finding],
    release: str,
    exceptions: Sequence[AllowedException] | None = None,
) -> list[Finding]:
    """Return `findings` with each error an exception covers turned into an allowed one."""
    entries = allowed_exceptions() if exceptions is None else exceptions
    out = []
    for finding in findings:
        entry = next((e for e in entries if e.covers(finding, release)), None)
        out.append(finding if entry is None else finding.allowed(entry.reason))
    return out
