"""kfstack.atomic: a record file is replaced whole or left as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfstack.atomic import write_text_atomic


def test_writes_the_whole_text(tmp_path: Path) -> None:
    path = tmp_path / "release.json"
    path.write_text("old\n")
    assert write_text_atomic(path, "new\n") == path
    assert path.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["release.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "release.json"
    path.write_text("old\n")
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(path, "half \udcff")  # a lone surrogate cannot be encoded
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["release.json"]
