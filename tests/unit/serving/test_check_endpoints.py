"""The predict URLs the stack exports for `kfstack serve check`."""

from __future__ import annotations

from infra.components.serving import cluster_local_url
from infra.serving.inference import predict_path
from ml.servecheck.protocol import predict_path as check_path
from ml.servecheck.protocol import resolve_route
from tests.serving_fixtures import make_release

FALLBACK = "http://iris.data-science.svc.cluster.local"


def test_the_cluster_local_address_comes_from_status_address() -> None:
    status = {
        "url": "http://iris.data-science.example.com",
        "address": {"url": "http://iris.data-science.svc.cluster.local:8080"},
    }
    assert cluster_local_url(status, FALLBACK) == "http://iris.data-science.svc.cluster.local:8080"
    assert cluster_local_url({"url": "http://x"}, FALLBACK) == FALLBACK
    assert cluster_local_url(None, FALLBACK) == FALLBACK
    assert cluster_local_url({"address": "odd"}, FALLBACK) == FALLBACK


def test_the_exported_predict_url_is_what_the_check_resolves() -> None:
    release = make_release("1")
    exported = FALLBACK + predict_path(release)
    assert predict_path(release) == check_path(release.name, "v1")
    route = resolve_route(exported, model=release.name, protocol=None)
    assert (route.url, route.model, route.protocol) == (exported, release.name, "v1")
