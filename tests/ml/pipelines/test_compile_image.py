"""Compile by digest: `--image REF@sha256:...`, the recorded digest, never a tag."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from ml.components import KFSTACK_IMAGE
from ml.pipelines import image_lock
from ml.pipelines.image_lock import (
    ImageError,
    check_digest_ref,
    compile_by_digest,
    executor_images,
    record_image,
    recorded_image,
    resolve_image,
)

# The golden of the default compile (tests/ml/pipelines/test_compile.py keeps it current): the
# compile by digest must equal it with every executor's image line naming the digest instead.
GOLDEN = Path(__file__).parent / "golden" / "training_pipeline.yaml"
IMAGE = "ghcr.io/kfstack/ml@sha256:" + "3f0c" * 16
Main = Callable[[list[str]], int]


def strip_sdk(text: str) -> str:
    """Strip what changes with the kfp SDK, not with the pipeline (the digest stays)."""
    text = re.sub(r"^sdkVersion: .*$", "sdkVersion: KFP", text, flags=re.M)
    return re.sub(r"kfp==[0-9][^'\"\s]*", "kfp==VERSION", text)


def golden_by_digest() -> tuple[str, int]:
    """The committed golden with its image lines on `IMAGE`, and how many were replaced."""
    return re.subn(
        rf"^(\s+image: ){re.escape(KFSTACK_IMAGE)}$",
        rf"\g<1>{IMAGE}",
        GOLDEN.read_text(encoding="utf-8"),
        flags=re.M,
    )


@pytest.fixture(scope="module")
def by_digest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out, ref = compile_by_digest(tmp_path_factory.mktemp("digest") / "p.yaml", IMAGE)
    assert ref == IMAGE
    return out


def test_compiled_by_digest_matches_golden(by_digest: Path) -> None:
    expected, replaced = golden_by_digest()
    assert replaced == 5, "the golden should name the default image once per executor"
    assert strip_sdk(by_digest.read_text(encoding="utf-8")) == expected, (
        "the compile by digest differs from the golden beyond the image lines"
    )


def test_every_executor_names_the_digest(by_digest: Path) -> None:
    spec = yaml.safe_load(by_digest.read_text(encoding="utf-8"))
    images = executor_images(spec)
    assert set(images) == {
        "exec-ingest-validate",
        "exec-train",
        "exec-evaluate",
        "exec-compare",
        "exec-write-release",
    }
    assert set(images.values()) == {IMAGE}
    assert set(executor_images(yaml.safe_load(golden_by_digest()[0])).values()) == {IMAGE}


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("ghcr.io/kfstack/ml:0.1.0", "has no digest"),
        ("ghcr.io/kfstack/ml", "has no digest"),
        ("ghcr.io/kfstack/ml@sha256:abc", "malformed digest"),
        ("ghcr.io/kfstack/ml@sha256:" + "A" * 64, "malformed digest"),
        ("ghcr.io/KFSTACK/ml@sha256:" + "0" * 64, "invalid repository name"),
    ],
)
def test_references_without_a_valid_digest_are_refused(ref: str, message: str) -> None:
    with pytest.raises(ImageError, match=message) as info:
        check_digest_ref(ref)
    assert "REGISTRY/REPOSITORY@sha256:<64 hex>" in str(info.value)


def test_references_by_digest_are_accepted() -> None:
    digest = "@sha256:" + "0123456789abcdef" * 4
    for ref in ("ghcr.io/kfstack/ml", "localhost:5000/a/b-c:0.1.0", "ml", "kind-registry:5000/ml"):
        assert check_digest_ref(ref + digest) == ref + digest


def test_record_and_resolve(tmp_path: Path) -> None:
    lock = tmp_path / "image.lock.json"
    with pytest.raises(ImageError, match=r"--image REGISTRY/REPOSITORY@sha256"):
        resolve_image(None, lock=lock)
    record_image(IMAGE, "0.0.9", lock=lock)
    assert recorded_image("0.0.9", lock=lock) == IMAGE
    with pytest.raises(ImageError, match=r"no component image recorded for kfstack"):
        resolve_image(None, lock=lock)
    other = "ghcr.io/kfstack/ml@sha256:" + "1" * 64
    record_image(other, lock=lock)  # the installed version
    assert resolve_image(None, lock=lock) == other
    assert json.loads(lock.read_text())["images"] == {
        "0.0.9": IMAGE,
        image_lock.project_version(): other,
    }
    assert resolve_image(IMAGE, lock=lock) == IMAGE  # --image wins
    with pytest.raises(ImageError, match="has no digest"):
        record_image("ghcr.io/kfstack/ml:latest", lock=lock)


def test_a_recorded_tag_is_refused(tmp_path: Path) -> None:
    lock = tmp_path / "image.lock.json"
    lock.write_text(json.dumps({"images": {image_lock.project_version(): "ghcr.io/x/ml:0.1.0"}}))
    with pytest.raises(ImageError, match=r"image.lock.json: version .*has no digest"):
        resolve_image(None, lock=lock)
    lock.write_text("{")
    with pytest.raises(ImageError, match="malformed JSON"):
        resolve_image(None, lock=lock)


def test_the_shipped_lock_is_valid() -> None:
    images = json.loads(image_lock.LOCK_FILE.read_text(encoding="utf-8"))["images"]
    for version, ref in images.items():
        assert check_digest_ref(ref) == ref, version


def test_cli_compile_without_a_recorded_image_names_the_flag(
    kfstack: Main,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(image_lock, "LOCK_FILE", tmp_path / "image.lock.json")
    out = tmp_path / "p.yaml"
    assert kfstack(["pipeline", "compile", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--image" in err and "no component image recorded" in err and "Traceback" not in err
    assert not out.exists()
    assert kfstack(["pipeline", "compile", "--out", str(out), "--image", "ghcr.io/x/ml:1"]) == 2
    assert "has no digest" in capsys.readouterr().err
    assert not out.exists()


def test_cli_compile_uses_the_recorded_image(
    kfstack: Main,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lock = tmp_path / "image.lock.json"
    record_image(IMAGE, lock=lock)
    monkeypatch.setattr(image_lock, "LOCK_FILE", lock)
    out = tmp_path / "p.yaml"
    assert kfstack(["pipeline", "compile", "--out", str(out)]) == 0
    assert IMAGE in capsys.readouterr().out
    assert set(executor_images(yaml.safe_load(out.read_text())).values()) == {IMAGE}


def test_record_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = tmp_path / "image.lock.json"
    monkeypatch.setattr(image_lock, "LOCK_FILE", lock)
    assert image_lock.main(["record", IMAGE, "--version", "9.9.9"]) == 0
    assert recorded_image("9.9.9", lock=lock) == IMAGE
    assert image_lock.main(["record", "ghcr.io/x/ml:1"]) == 2
    assert image_lock.main(["nope"]) == 2
