"""kfstack's shell over `infra` (the platform) and `ml`: the command line and shared helpers.

``kfstack.cli``     the `kfstack` command
``kfstack.atomic``  files replaced whole or not at all (used by `infra` and `ml` alike)
"""
