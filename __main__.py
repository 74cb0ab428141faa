"""The Pulumi program's entry point, at the project root: the program is infra/__main__.py.

Pulumi starts the plugin of Python dynamic providers (serving's rollout check, the Model
Registry entries) in the program's directory, and with `toolchain: uv` that plugin looks
for `.venv` there. With `main: infra/` it looked for infra/.venv and could not start (the
engine tier found it); from the root it finds the `.venv` that `uv sync` made, and `infra`
is importable by the plugin's Python as it is by the program's.
"""

import runpy

runpy.run_module("infra", run_name="__main__", alter_sys=True)
