"""Public names of a package resolved on first use, so importing it stays light.

A package front file lists which module holds each public name; the module is imported
the first time the name is read (`from ml.model import train` imports TensorFlow, `from
ml.model import TrainConfig` does not).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(package: str, exports: Mapping[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """A module `__getattr__` that imports each public name from its module when read.

    Args:
        package: The package's `__name__` (for the error message).
        exports: Module path -> the public names it holds.
    """
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
