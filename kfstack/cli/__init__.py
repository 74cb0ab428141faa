"""The `kfstack` command line: the shell over both `infra` (the platform) and `ml`.

``kfstack.cli.app``              the parser and `main`, the entry point of `kfstack`
``kfstack.cli.frame``            the frame every subcommand uses: groups, guard, exit codes
``kfstack.cli.ml``               `kfstack data inspect | build`, `kfstack train`
``kfstack.cli.pipeline``         `kfstack pipeline compile | run-local | dag`
``kfstack.cli.pipeline_run``     `kfstack pipeline run --host URL` (the KFP API)
``kfstack.cli.release``          `kfstack release fetch | publish` (model release records)
``kfstack.cli.serve``            `kfstack serve check`
``kfstack.cli.ml_options``       the dataset and training options, defined once
``kfstack.cli.pipeline_params``  the training pipeline's arguments from those options
``kfstack.cli.output``           terminal output: consoles, short numbers, progress
"""

from kfstack.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
