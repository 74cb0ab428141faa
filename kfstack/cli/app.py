"""The `kfstack` command: one parser, the subcommands of each concern registered on it.

`infra.plan` adds `plan` (the platform); `kfstack.cli.ml`, `.pipeline`, `.release` and
`.serve` add the ML commands. Each `register(subparsers)` builds its parsers with the frame
of `kfstack.cli.frame`; heavy imports stay inside the handlers so `kfstack --help` is fast
and works without the `ml` extra, and an ML command run without it says what to install.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kfstack.cli.frame import BAD_INPUT, error, missing_extra

__all__ = ["COMMANDS", "build_parser", "main"]

#: The modules whose `register(subparsers)` add the subcommands, in `--help` order.
COMMANDS = (
    "infra.plan",
    "kfstack.cli.ml",
    "kfstack.cli.pipeline",
    "kfstack.cli.release",
    "kfstack.cli.serve",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of every `kfstack` subcommand."""
    parser = argparse.ArgumentParser(
        prog="kfstack",
        description="Kubeflow as one Pulumi program: plan the platform, build datasets, "
        "train and compile pipelines.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `kfstack` with `argv` and return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.handler(args)
    except ModuleNotFoundError as err:
        message = missing_extra(err)
        if message is None:
            raise
        error(f"kfstack {args.command}: {message}")
        return BAD_INPUT
    return status


if __name__ == "__main__":
    sys.exit(main())
