"""Errors of the pure core: each one lists every problem found, with what and where."""

from __future__ import annotations

from collections.abc import Sequence


class PlanError(ValueError):
    """The install plan cannot be computed; `problems` says what and where, one per line."""

    def __init__(self, problems: str | Sequence[str], *, hint: str = "") -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        self.hint = hint
        lines = list(self.problems)
        if hint:
            lines.append(hint)
        super().__init__("\n".join(lines) if len(lines) > 1 else lines[0])


class CatalogueError(PlanError):
    """An unknown component, preset, option or release."""


class SourceError(PlanError):
    """The manifests source is missing, has the wrong layout, or cannot be fetched."""


class RenderError(PlanError):
    """`kubectl kustomize` failed, or its output could not be read."""
