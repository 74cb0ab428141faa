"""The one frame of every `kfstack` subcommand: groups, handlers, errors -> exit codes.

A command module's `register(subparsers)` adds a group with `command_group`, its commands
with `add_command`, and gives each a handler wrapped by `guard`. The guard turns what a user
can act on into one `error: ...` line on stderr and an exit status, never a traceback:

- bad input (a missing file, an invalid value or option): `BAD_INPUT` (2);
- the failures a module names (`Failure`), e.g. a failed run or training: their status;
- a command run without the `ml` extra installed: `BAD_INPUT`, with the install line,
  checked before the command reads anything.

Handlers import TensorFlow, kfp, pandas and boto3 themselves, so `kfstack --help` is fast
and works without the extra.
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

from kfstack.cli.output import console, error_text

__all__ = [
    "BAD_INPUT",
    "FAILED",
    "ML_MODULES",
    "Failure",
    "Handler",
    "HelpFormatter",
    "Subparsers",
    "add_command",
    "command_group",
    "error",
    "guard",
    "missing_extra",
    "options",
]

#: Exit status for bad input (files, CSV content, options) and a missing extra.
BAD_INPUT = 2
#: Exit status when the work itself failed (training, a run, the API, the store).
FAILED = 1
#: Errors that are the user's input, reported as `BAD_INPUT`.
INPUT_ERRORS: tuple[type[Exception], ...] = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    ValueError,
)
#: Top-level modules of the `ml` extra: an import of one failing means the extra is missing.
ML_MODULES = frozenset(
    {"tensorflow", "keras", "pandas", "pyarrow", "kfp", "matplotlib", "boto3", "botocore"}
)
#: What to run to get the `ml` extra.
ML_EXTRA_HINT = "pip install 'kfstack[ml]' (or, in a checkout: uv sync --extra ml)"

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler: TypeAlias = Callable[[argparse.Namespace], int]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show each option's default, except where the help already says it or it is None."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text or action.default in (None, False, [], argparse.SUPPRESS):
            return text
        return super()._get_help_string(action)


@dataclass(frozen=True)
class Failure:
    """An error a command names, its exit status and the words put before its message.

    Attributes:
        kind: The exception class (a subclass is matched too).
        status: The exit status, or a function of the error that returns it.
        prefix: Put before the error's text, e.g. "training failed: ".
    """

    kind: type[BaseException]
    status: int | Callable[[BaseException], int] = FAILED
    prefix: str = ""

    def exit_status(self, err: BaseException) -> int:
        """The exit status for `err`."""
        return self.status if isinstance(self.status, int) else self.status(err)


def command_group(subparsers: Subparsers, name: str, help_text: str) -> Subparsers:
    """Add `kfstack NAME COMMAND ...` and return the parsers of its commands."""
    group = subparsers.add_parser(name, help=help_text)
    return group.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")


def add_command(
    commands: Subparsers, name: str, help_text: str, **kwargs: object
) -> argparse.ArgumentParser:
    """Add one command, its option defaults shown in `--help`."""
    kwargs.setdefault("formatter_class", HelpFormatter)
    return commands.add_parser(name, help=help_text, **kwargs)  # type: ignore[arg-type]


def error(message: str) -> None:
    """Print `error: MESSAGE` on stderr, in full lines."""
    console(stderr=True).print(f"error: {message}", soft_wrap=True)


def guard(handler: Handler, failures: Callable[[], Iterable[Failure]] | None = None) -> Handler:
    """`handler` with its errors turned into one message and an exit status.

    Args:
        handler: The command: parsed arguments -> exit status.
        failures: Returns the failures the command names, checked before bad input; called
            when the command runs, so it may import the `ml` extra's modules.
    """

    def run(args: argparse.Namespace) -> int:
        _require_ml_extra()
        named = tuple(failures()) if failures is not None else ()
        try:
            return handler(args)
        except ModuleNotFoundError:
            raise  # the extra is missing: `kfstack.cli.app.main` says which
        except Exception as err:
            for failure in named:
                if isinstance(err, failure.kind):
                    error(failure.prefix + error_text(err))
                    return failure.exit_status(err)
            if isinstance(err, INPUT_ERRORS):
                error(error_text(err))
                return BAD_INPUT
            raise

    return run


def options(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """The values of the options `names`, as keyword arguments of the same names."""
    return {name: getattr(args, name) for name in names}


def _require_ml_extra() -> None:
    """Raise ModuleNotFoundError, before any work, when a module of the extra is missing."""
    for name in sorted(ML_MODULES):
        if importlib.util.find_spec(name) is None:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


def missing_extra(err: ModuleNotFoundError) -> str | None:
    """The message for a module of the `ml` extra that is not installed, else None."""
    root = (err.name or "").partition(".")[0]
    if root not in ML_MODULES:
        return None
    return f"this command needs the ml extra ({root} is not installed): {ML_EXTRA_HINT}"
