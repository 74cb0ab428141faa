"""Time `kubectl kustomize example` vs a cold and a warm `build_plan` of the full preset.

Run by hand: `uv run python bench/bench_plan.py [MANIFESTS]`. Targets: cold plan <= 1.5x
the render alone, warm plan <= 0.25x, peak memory < 1 GB (this process + children).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infra.kubeflow.core import build_plan
from infra.kubeflow.render.kustomize import pinned_kubectl
from infra.kubeflow.settings import KubeflowSettings, ManifestSource

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO.parent / "shared" / "kubeflow" / "26.03" / "manifests"


def _timed(label: str, action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    elapsed = time.perf_counter() - start
    print(f"{label:<28} {elapsed:7.2f} s")
    return elapsed


def main() -> None:
    manifests = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    kubectl = pinned_kubectl()
    settings = KubeflowSettings(
        preset="full",
        cluster_kind="existing",
        source=ManifestSource(path=manifests),
        allow_privileged=("DaemonSet/kube-system/istio-cni-node",),
    )
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        render = _timed(
            "kubectl kustomize example",
            lambda: subprocess.run(
                [str(kubectl.path), "kustomize", str(manifests / "example")],
                capture_output=True,
                check=True,
            ),
        )
        cold = _timed("cold plan (empty cache)", lambda: build_plan(settings, cache_dir=cache))
        warm = _timed("warm plan", lambda: build_plan(settings, cache_dir=cache))
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"cold / render               {cold / render:7.2f}   (target <= 1.5)")
    print(f"warm / render               {warm / render:7.2f}   (target <= 0.25)")
    print(
        f"peak RSS self / children    {self_kb / 1024:7.0f} MB / {child_kb / 1024:.0f} MB"
        "   (target < 1024 MB each)"
    )


if __name__ == "__main__":
    main()
