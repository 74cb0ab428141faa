"""Time `kubectl kustomize example` vs a cold and a warm `build_plan` of the full preset.

Run by hand on a quiet machine: `uv run python bench/bench_plan.py [--runs N] [RELEASE_DIR ...]`
(default: both shared releases). Each run renders the example alone, then plans cold
(empty cache) and warm (same cache) in a fresh process, and reports the medians.
Targets: cold plan <= 1.0x the render alone, warm plan <= 0.10x, peak memory < 1 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "kubeflow"
DEFAULT = (SHARED / "v1.10.2" / "manifests", SHARED / "26.03" / "manifests")
# The Kubernetes version each release is planned for (one it supports).
KUBERNETES = {"v1.10.2": "1.33"}


def one_run(manifests: Path) -> dict[str, float]:
    """Time one render, one cold and one warm plan (this process is fresh)."""
    from infra.config import kubeflow_settings
    from infra.config_model import StackSettings
    from infra.kubeflow import ManifestSource, build_plan
    from infra.kubeflow.render import pinned_kubectl

    kubectl = pinned_kubectl()
    start = time.perf_counter()
    subprocess.run(
        [str(kubectl.path), "kustomize", str(manifests / "example")],
        capture_output=True,
        check=True,
    )
    render = time.perf_counter() - start
    # The stack defaults (infra/config_model.py), changed to plan the release's example.
    settings = replace(
        kubeflow_settings(StackSettings(stack="bench"), base=Path.cwd()),
        release=None,
        preset="full",
        cluster_kind="existing",
        gateway_node_port=None,
        kubernetes_version=KUBERNETES.get(manifests.parent.name, "1.34"),
        source=ManifestSource(path=manifests),
        allow_privileged=("DaemonSet/kube-system/istio-cni-node",),
    )
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        build_plan(settings, cache_dir=Path(tmp))
        cold = time.perf_counter() - start
        start = time.perf_counter()
        build_plan(settings, cache_dir=Path(tmp))
        warm = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"render": render, "cold": cold, "warm": warm, "rss_mb": own, "child_rss_mb": children}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("manifests", nargs="*", type=Path, default=list(DEFAULT))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one_run(args.one)))
        return
    for manifests in args.manifests:
        runs = []
        for _ in range(args.runs):
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(manifests)],
                capture_output=True,
                text=True,
                check=True,
                cwd=REPO,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        ratios = [(r["cold"] / r["render"], r["warm"] / r["render"]) for r in runs]
        print(f"{manifests.parent.name}: median of {len(runs)} runs")
        print(f"  kubectl kustomize example  {med['render']:7.2f} s")
        print(f"  cold plan (empty cache)    {med['cold']:7.2f} s")
        print(f"  warm plan                  {med['warm']:7.2f} s")
        cold_ratio = statistics.median(c for c, _ in ratios)
        warm_ratio = statistics.median(w for _, w in ratios)
        print(f"  cold / render (median)     {cold_ratio:7.2f}   (target <= 1.0)")
        print(f"  warm / render (median)     {warm_ratio:7.2f}   (target <= 0.10)")
        print(
            f"  peak RSS self / children   {med['rss_mb']:7.0f} MB / {med['child_rss_mb']:.0f} MB"
            "   (target < 1024 MB)"
        )


if __name__ == "__main__":
    main()
