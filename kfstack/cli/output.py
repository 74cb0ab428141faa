"""Terminal output of the ml commands: no wrapping when piped, short numbers, progress.

Consoles print text as it is and, when the output is not a terminal, in full lines; numbers
are shown with four significant digits; training epochs get a progress display.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console

#: Width used when output is not a terminal: lines are never wrapped there.
_PIPE_WIDTH = 10_000
#: TensorFlow's C++ logging: 2 hides INFO and WARNING lines (set before TensorFlow loads).
TF_LOG_LEVEL = "2"


def quiet_tensorflow() -> None:
    """Hide TensorFlow's C++ log lines in this process and the ones it starts."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TF_LOG_LEVEL)


def console(*, stderr: bool = False) -> Console:
    """A console printing text as it is (no markup); full lines, not wrapped, when piped."""
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    return Console(
        file=stream,
        highlight=False,
        markup=False,
        soft_wrap=not terminal,
        width=None if terminal else _PIPE_WIDTH,
    )


def short(value: Any) -> str:
    """A number as people write it: 43.7 (not 43.699997), 0.9531, 1.2e-05, 1500000."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or (
        math.isfinite(value) and value == int(value) and abs(value) < 1e15
    ):
        return str(int(value))
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"


def metrics_line(metrics: dict[str, Any], skip: tuple[str, ...] = ("rows",)) -> str:
    """`accuracy 0.9531, loss 0.1204` from a metrics mapping (None shows as n/a)."""
    return ", ".join(
        f"{k} {'n/a' if v is None else short(v)}" for k, v in metrics.items() if k not in skip
    )


class EpochProgress:
    """Shows training progress: a live bar on a terminal, a line every ~10% when piped."""

    def __init__(self, out: Console, quiet: bool = False) -> None:
        self.out = out
        self.quiet = quiet
        self._progress: Any = None
        self._task: Any = None

    def __call__(self, epoch: int, total: int, logs: dict[str, float]) -> None:
        """Report the end of `epoch` (1-based) of at most `total`."""
        shown = metrics_line({k: v for k, v in logs.items() if k != "learning_rate"})
        if self.quiet:
            return
        if self._progress is not None:
            self._progress.update(self._task, completed=epoch, total=total, info=shown)
            return
        step = max(1, total // 10)
        if epoch == 1 or epoch % step == 0 or epoch == total:
            self.out.print(f"  epoch {epoch}/{total}: {shown}")

    @contextmanager
    def live(self) -> Iterator[EpochProgress]:
        """Draw a progress bar while the block runs (on a terminal only)."""
        if self.quiet or not self.out.is_terminal:
            yield self
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("  epoch {task.completed}/{task.total}"),
            BarColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[info]}"),
            console=self.out,
            transient=True,
        ) as progress:
            self._progress = progress
            self._task = progress.add_task("train", total=None, info="")
            try:
                yield self
            finally:
                self._progress = None


def error_text(err: Exception) -> str:
    """An exception as one short message: pydantic's validation errors without their noise."""
    from pydantic import ValidationError

    if isinstance(err, ValidationError):
        return "; ".join(e["msg"].removeprefix("Value error, ") for e in err.errors())
    return str(err)
