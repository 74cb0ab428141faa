"""The `kfstack` command: one entry point, subcommands registered by each concern.

`infra.plan` adds `plan`; `kfstack.cli.ml` adds `data`, `train` and `pipeline`. Each
`register(subparsers)` adds its parsers with `set_defaults(handler=...)`; heavy
imports (TensorFlow, kfp) stay inside the handlers so `kfstack --help` is fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of every `kfstack` subcommand."""
    parser = argparse.ArgumentParser(
        prog="kfstack",
        description="Kubeflow as one Pulumi program: plan the platform, build datasets, "
        "train and compile pipelines.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    import infra.plan
    import kfstack.cli.ml

    infra.plan.register(subparsers)
    kfstack.cli.ml.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `kfstack` with `argv` and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = args.handler
    status: int = handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
