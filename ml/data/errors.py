"""The one error the data and model code raise for bad input, listing every problem found."""

from __future__ import annotations

from dataclasses import dataclass

#: How many problems a DataError message lists before saying "and N more".
MAX_LISTED = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: what, and where (file line, column) when known."""

    message: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class DataError(ValueError):
    """Bad input data: carries every problem found, the message lists the first ones."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(self._format())

    def _format(self) -> str:
        count = len(self.problems)
        head = f"{self.source}: {count} problem{'s' if count != 1 else ''}"
        lines = [head, *(f"  - {p}" for p in self.problems[:MAX_LISTED])]
        if count > MAX_LISTED:
            lines.append(f"  ... and {count - MAX_LISTED} more")
        return "\n".join(lines)


class ProblemList:
    """Collects problems while reading; `raise_if_any` turns them into one DataError."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[Problem] = []

    def add(self, message: str, *, line: int | None = None, column: str | None = None) -> None:
        """Record one problem."""
        self.items.append(Problem(message, line, column))

    def raise_if_any(self) -> None:
        """Raise a DataError listing the problems, if there are any."""
        if self.items:
            raise DataError(self.source, self.items)
