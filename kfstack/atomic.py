"""Files replaced whole or not at all: a reader never sees half a record."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> Path:
    """Write `text` to `path` through a temporary file in the same folder, then rename it.

    Args:
        path: The file to write; its folder must exist.
        text: The whole content (UTF-8).

    Returns:
        `path`. On any error the old file is left as it was and no temporary file remains.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
