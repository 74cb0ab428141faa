"""Which revision of an InferenceService the check measures: the route, or the canary.

With `canaryTrafficPercent`, KServe (serverless mode) routes that share of the traffic to the
latest ready revision and the rest to the last rolled-out one, which its Knative Service tags
`prev`; with the annotation `serving.kserve.io/enable-tag-routing: "true"` it also tags the
latest revision `latest`. A tag is reachable two ways: its own URL (`status.components.
predictor.traffic[?(@.tag=="latest")].url` of the InferenceService, `latest-<name>-predictor.
<namespace>.<domain>`) or, when Knative's `tag-header-based-routing` feature is on, the
`Knative-Serving-Tag: latest` header on the usual URL. `default` is the route as clients see
it (the traffic split); `canary` is the latest revision alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ml.servecheck.protocol import Route, resolve_route

TargetName = Literal["default", "canary"]
#: `--target` choices; "both" measures the route and the canary separately.
TARGET_CHOICES = ("default", "canary", "both")
#: The tag KServe gives the latest (canary) revision with tag routing enabled.
CANARY_TAG = "latest"
#: Knative's header selecting a tagged revision (feature `tag-header-based-routing`).
TAG_HEADER = "Knative-Serving-Tag"


@dataclass(frozen=True)
class Target:
    """One revision to measure: its name in reports, URL and extra headers."""

    name: TargetName
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def how(self) -> str:
        """How the request reaches this revision, for reports."""
        if TAG_HEADER in self.headers:
            return f"{self.url} with header {TAG_HEADER}: {self.headers[TAG_HEADER]}"
        return self.url


def resolve_targets(route: Route, which: str, *, canary_url: str | None = None) -> list[Target]:
    """The revisions `--target` asks for.

    Args:
        route: The resolved `--endpoint`.
        which: "default", "canary" or "both".
        canary_url: The canary revision's own URL (base or full predict URL); None selects
            it with the tag header on the endpoint's URL.

    Raises:
        ValueError: an unknown target, or a canary URL naming another model.

    """
    if which not in TARGET_CHOICES:
        raise ValueError(f"--target {which!r}: expected one of {', '.join(TARGET_CHOICES)}")
    targets = []
    if which in ("default", "both"):
        targets.append(Target("default", route.url))
    if which in ("canary", "both"):
        if canary_url:
            url = resolve_route(canary_url, model=route.model, protocol=route.protocol).url
            targets.append(Target("canary", url))
        else:
            targets.append(Target("canary", route.url, {TAG_HEADER: CANARY_TAG}))
    return targets
