"""The in-image tier: opt-in (`make image-test`, i.e. `pytest --image tests/image`).

Tests marked `image` are skipped with the reason when not asked for, when not root (buildah's
store, runc and the mounts need it), without buildah or runc, or before `make image`.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.image.container import RECORD, BuiltImage


def missing_image() -> str | None:
    """Why the in-image tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "in-image steps need root (buildah run, runc, bind mounts)"
    for tool in ("buildah", "runc"):
        if shutil.which(tool) is None:
            return f"{tool} missing: `make image` installs it (Debian's package)"
    try:
        image = BuiltImage.read()
    except (OSError, KeyError, ValueError):
        return f"no image built ({RECORD} missing): run `make image` first"
    if not image.exists():
        return f"{image.reference} is no longer in {image.storage_root}: run `make image`"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    marked = [item for item in items if item.get_closest_marker("image") is not None]
    if not marked:
        return
    if config.getoption("--image"):
        reason = missing_image()
    else:
        reason = "in-image tier: opt-in, run `make image` then `make image-test`"
    if reason is not None:
        for item in marked:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def built_image() -> BuiltImage:
    """The image `make image` built."""
    return BuiltImage.read()
