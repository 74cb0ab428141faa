"""The component image by digest: reference checks, the recorded digest per project version.

A compiled pipeline must name its image by digest (``REF@sha256:<64 hex>``): a tag can move
or not exist yet, a digest is the exact image CI built and pushed. The image workflow
(`.github/workflows/image.yml`) records the digest it pushed for the current project version
in ``image.lock.json`` beside this module; `resolve_image` reads it when no image is given.

Record a pushed image (what the workflow's record step runs)::

    python -m ml.pipelines.image_lock record ghcr.io/kfstack/ml@sha256:...
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from kfstack.atomic import write_text_atomic

__all__ = [
    "LOCK_FILE",
    "ImageError",
    "check_digest_ref",
    "check_executor_images",
    "compile_by_digest",
    "executor_images",
    "project_version",
    "record_image",
    "recorded_image",
    "resolve_image",
]

LOCK_FILE: Final = Path(__file__).with_name("image.lock.json")
"""Project version -> image reference by digest, written by the image workflow."""

# The reference grammar of the OCI distribution spec (github.com/distribution/reference):
# an optional registry host[:port], lower-case path components, an optional tag, a digest.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*"
_NAME = rf"(?:{_HOST}(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
DIGEST_REF: Final = re.compile(rf"^(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?@sha256:[0-9a-f]{{64}}$")


class ImageError(ValueError):
    """An image reference that is not by digest, or no digest recorded for this version."""


def check_digest_ref(ref: str) -> str:
    """Return `ref` if it names an image by digest (``REF@sha256:<64 hex>``).

    Raises:
        ImageError: what is wrong and the form that is allowed.

    """
    ref = ref.strip()
    if DIGEST_REF.match(ref):
        return ref
    if "@" not in ref:
        problem = "has no digest (a tag can move or not exist)"
    elif not re.search(r"@sha256:[0-9a-f]{64}$", ref):
        problem = "has a malformed digest (want sha256: and 64 lower-case hex digits)"
    else:
        problem = "has an invalid repository name (lower-case path components)"
    raise ImageError(
        f"image {ref!r} {problem}: give REGISTRY/REPOSITORY@sha256:<64 hex>, "
        "e.g. ghcr.io/kfstack/ml@sha256:3f0c..."
    )


def project_version() -> str:
    """The installed kfstack version (pyproject's `project.version`)."""
    return metadata.version("kfstack")


def _read_lock(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ImageError(f"{path}:{exc.lineno}:{exc.colno}: malformed JSON: {exc.msg}") from None
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in images.items()
    ):
        raise ImageError(f"{path}: want {{'images': {{version: image@sha256:...}}}}")
    return dict(images)


def recorded_image(version: str | None = None, *, lock: Path | None = None) -> str | None:
    """The image recorded for `version` (default: this project's), or None.

    Raises:
        ImageError: the lock file is malformed or records a reference without a digest.

    """
    version = version or project_version()
    lock = lock or LOCK_FILE
    ref = _read_lock(lock).get(version)
    if ref is None:
        return None
    try:
        return check_digest_ref(ref)
    except ImageError as err:
        raise ImageError(f"{lock}: version {version}: {err}") from None


def resolve_image(image: str | None, *, lock: Path | None = None) -> str:
    """The image a compile uses: `image` if given (by digest), else the recorded one.

    Raises:
        ImageError: `image` is not by digest, or none is given and none is recorded for the
            current version (the message names ``--image`` and the lock file).

    """
    if image:
        return check_digest_ref(image)
    version, lock = project_version(), lock or LOCK_FILE
    found = recorded_image(version, lock=lock)
    if found is None:
        raise ImageError(
            f"no component image recorded for kfstack {version} in {lock}: give "
            "--image REGISTRY/REPOSITORY@sha256:<digest> (the image workflow builds and "
            "records one per version; a tag is never used)"
        )
    return found


def record_image(ref: str, version: str | None = None, *, lock: Path | None = None) -> Path:
    """Record `ref` (by digest) as the image of `version`; other versions are kept.

    The file is replaced atomically and keeps its keys sorted, so a diff shows one line.
    """
    ref, lock = check_digest_ref(ref), lock or LOCK_FILE
    images = _read_lock(lock)
    images[version or project_version()] = ref
    text = json.dumps({"images": dict(sorted(images.items()))}, indent=2) + "\n"
    return write_text_atomic(lock, text)


def executor_images(spec: Mapping[str, Any]) -> dict[str, str]:
    """Executor name -> container image of a compiled pipeline (IR YAML as a mapping)."""
    executors = spec.get("deploymentSpec", {}).get("executors", {})
    return {
        name: executor["container"]["image"]
        for name, executor in executors.items()
        if "container" in executor
    }


def check_executor_images(spec: Mapping[str, Any], image: str) -> None:
    """Check every container executor of `spec` names `image`.

    Raises:
        ImageError: the executors that name another image (or none are found).

    """
    images = executor_images(spec)
    wrong = sorted(f"{name} ({ref})" for name, ref in images.items() if ref != image)
    if not images or wrong:
        raise ImageError(
            f"compiled pipeline: executors not on {image}: {', '.join(wrong) or 'no executors'}"
        )


def compile_by_digest(out: Path, image: str | None = None) -> tuple[Path, str]:
    """Compile the training pipeline to `out` on `image` (by digest) or the recorded image.

    Returns:
        The file written and the image every executor names.

    Raises:
        ImageError: no digest given or recorded (see `resolve_image`), or an executor of the
            compiled pipeline names another image (nothing is left at `out` then).

    """
    import yaml

    from ml.pipelines.training import compile_pipeline

    ref = resolve_image(image)
    written = compile_pipeline(out, image=ref)
    try:
        check_executor_images(yaml.safe_load(written.read_text(encoding="utf-8")), ref)
    except ImageError:
        written.unlink(missing_ok=True)
        raise
    return written, ref


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ml.pipelines.image_lock record REF [--version V]`` (used by CI)."""
    args = list(sys.argv[1:] if argv is None else argv)
    usage_ok = len(args) in (2, 4) and args[0] == "record"
    if not usage_ok or (len(args) == 4 and args[2] != "--version"):
        print("usage: python -m ml.pipelines.image_lock record REF [--version V]", file=sys.stderr)
        return 2
    try:
        path = record_image(args[1], args[3] if len(args) == 4 else None)
    except ImageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"recorded {args[1]} in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
