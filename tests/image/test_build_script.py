"""`scripts/build-image --push`: a stand-in image never leaves the machine (part of `make test`).

The script is run against a fake `buildah` that only logs its calls, and a small OCI layout
written here, so the refusal is checked without building anything.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.fake_tools import Run, run_with_fake_tools

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build-image"
FAKE_BUILDAH = """#!/bin/bash
echo "buildah $*" >> "$LOG"
while [ $# -gt 0 ]; do [ "$1" = --digestfile ] && echo -n sha256:feed > "$2"; shift; done
"""
LABEL = "dev.kfstack.stand-in-base"
TAG = "kfstack-ml:0.1.0-standin"


def blob(layout: Path, data: dict[str, object]) -> str:
    raw = json.dumps(data).encode()
    digest = hashlib.sha256(raw).hexdigest()
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "blobs" / "sha256" / digest).write_bytes(raw)
    return f"sha256:{digest}"


def built(cache: Path, *, recorded_stand_in: bool, labels: dict[str, str]) -> None:
    """An image.json and an OCI layout whose config carries `labels`."""
    layout = cache / "oci"
    config = blob(layout, {"config": {"Labels": labels}})
    manifest = blob(layout, {"schemaVersion": 2, "config": {"digest": config}, "layers": []})
    (layout / "index.json").write_text(
        json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "digest": manifest,
                        "annotations": {"org.opencontainers.image.ref.name": TAG},
                    }
                ],
            }
        )
    )
    record = {"reference": f"localhost/{TAG}", "tag": TAG, "stand_in": recorded_stand_in}
    (cache / "image.json").write_text(json.dumps(record))


def push(tmp_path: Path) -> Run:
    return run_with_fake_tools(
        f"{SCRIPT} --push docker://registry.invalid/kfstack/ml:0.1.0",
        {"buildah": FAKE_BUILDAH},
        tmp_path,
        {"KFSTACK_IMAGE_CACHE": str(tmp_path / "cache")},
    )


@pytest.mark.parametrize(
    ("recorded", "labels"),
    [
        (True, {LABEL: "local stand-in"}),
        (False, {LABEL: "local stand-in"}),  # the image's own label suffices
        (True, {}),  # and so does the record
    ],
)
def test_a_stand_in_image_is_never_pushed(
    tmp_path: Path, recorded: bool, labels: dict[str, str]
) -> None:
    built(tmp_path / "cache", recorded_stand_in=recorded, labels=labels)
    done, calls = push(tmp_path)
    assert done.returncode == 3, done.stderr
    assert "REFUSED" in done.stderr and LABEL in done.stderr
    assert calls == []


def test_the_real_image_is_pushed(tmp_path: Path) -> None:
    built(tmp_path / "cache", recorded_stand_in=False, labels={"other": "x"})
    done, calls = push(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "sha256:feed"
    (call,) = calls
    assert call.startswith("buildah --root ")
    assert call.endswith(
        f" push --digestfile {tmp_path}/cache/pushed.digest localhost/{TAG} "
        "docker://registry.invalid/kfstack/ml:0.1.0"
    )


def test_nothing_built_is_nothing_to_push(tmp_path: Path) -> None:
    done, calls = push(tmp_path)
    assert done.returncode == 2 and "make image" in done.stderr
    assert calls == []
