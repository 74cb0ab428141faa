"""Public names of a package resolved on first use, so importing the package stays light.

A front file lists its public names (`__all__`) and its modules from the lightest to the
heaviest; reading a name imports the modules in that order until one holds it, so
`from ml.model import TrainConfig` stops at the pure `ml.model.training` and never loads
TensorFlow, while `from ml.model import train` goes on to `ml.model.network`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(
    package: str, public: Sequence[str], modules: Sequence[str]
) -> Callable[[str], Any]:
    """A module `__getattr__` that imports a public name from the first module holding it.

    Args:
        package: The package's `__name__`.
        public: Its public names (`__all__`); any other name is an AttributeError.
        modules: Its modules' names relative to the package, lightest first.
    """

    def __getattr__(name: str) -> Any:
        if name in public:
            for module in modules:
                found = importlib.import_module(f"{package}.{module}")
                if hasattr(found, name):
                    return getattr(found, name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
