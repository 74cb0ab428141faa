"""Terminal output of the ml commands: no wrapping when piped, short numbers, progress.

Consoles print text as it is and, when the output is not a terminal, in full lines; numbers
are shown with four significant digits; training epochs get a progress display.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import math
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console

#: Width used when output is not a terminal: lines are never wrapped there.
_PIPE_WIDTH = 10_000
#: TensorFlow's C++ logging: 2 hides INFO and WARNING lines (set before TensorFlow loads).
TF_LOG_LEVEL = "2"
#: A C++ log line of TensorFlow's libraries (absl / TSL: `I0000 00:00:... port.cc:153] ...`,
#: `2026-01-01 10:00:00.000000: W tensorflow/...] ...`) or absl's note before its first one.
TF_LOG_LINE = re.compile(
    r"([IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\] "
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] \S+:\d+\] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called)"
)


def quiet_tensorflow() -> None:
    """Hide TensorFlow's C++ log lines in this process and the ones it starts.

    `TF_CPP_MIN_LOG_LEVEL` (2 unless set) reaches the child processes and the logging of
    TensorFlow's own code. It does not reach the libraries' absl logging, which writes to
    file descriptor 2 while `import tensorflow` loads them (absl's "All log messages before
    absl::InitializeLog()" note, oneDNN's and CUDA's lines, once per library): so at a level
    of 2 or more, that import runs with descriptor 2 captured, and what it wrote goes on to
    stderr without those lines (`TF_LOG_LINE`). Call it before anything imports TensorFlow.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TF_LOG_LEVEL)
    quiet = os.environ["TF_CPP_MIN_LOG_LEVEL"].strip() not in ("", "0", "1")
    hooked = any(isinstance(f, _QuietImport) for f in sys.meta_path)
    if quiet and not hooked and "tensorflow" not in sys.modules:
        sys.meta_path.insert(0, _QuietImport())


@contextmanager
def filtered_stderr(drop: re.Pattern[str] = TF_LOG_LINE) -> Iterator[None]:
    """Capture file descriptor 2 in the block, then pass on its lines that `drop` does not match.

    C++ code writes to the descriptor, not to `sys.stderr`, so only this reaches it.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            kept = [line for line in text.splitlines(keepends=True) if not drop.match(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


class _QuietImport(importlib.abc.MetaPathFinder):
    """Runs the import of the `tensorflow` package inside `filtered_stderr`."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "tensorflow":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec, spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, spec: Any, loader: Any) -> None:
        self.spec, self.loader = spec, loader

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.spec.loader = module.__loader__ = self.loader  # the package sees its own loader
        with filtered_stderr():
            self.loader.exec_module(module)


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
