"""The README's table of cluster kinds, written from the kinds' own models (pure).

`python -m infra.cluster.docs` rewrites the table between its markers in README.md;
tests/unit/test_cluster_docs.py fails when the README and the kinds disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, get_args, get_origin

from pydantic.alias_generators import to_camel
from pydantic_core import PydanticUndefined

from infra.cluster.base import ClusterBase
from infra.cluster.kinds import kind_models

__all__ = ["BEGIN", "END", "kinds_table", "with_kinds_table"]

BEGIN = "<!-- cluster kinds: written by `python -m infra.cluster.docs` -->"
END = "<!-- end of cluster kinds -->"


def _field(name: str, model: type[ClusterBase]) -> str:
    info = model.model_fields[name]
    value = info.default
    if info.is_required():
        shown = "required"
    elif value in (None, (), PydanticUndefined):
        shown = ""
    else:
        shown = f"default `{str(value).lower() if isinstance(value, bool) else value}`"
    choices = get_args(info.annotation) if get_origin(info.annotation) is Literal else ()
    allowed = f"one of {', '.join(f'`{c}`' for c in choices)}" if choices else ""
    about = "; ".join(p for p in (shown, allowed, info.description or "") if p)
    return f"`{to_camel(name)}`" + (f" ({about})" if about else "")


def own_fields(model: type[ClusterBase]) -> list[str]:
    """The fields a kind adds to the common ones (`ClusterBase`), in declaration order."""
    return [name for name in model.model_fields if name not in ClusterBase.model_fields]


def kinds_table() -> str:
    """The Markdown table of every kind in `KINDS`: what it is, its fields, its extra."""
    rows = ["| kind | what | its own fields | extra |", "|---|---|---|---|"]
    for name, model in kind_models().items():
        what = (model.__doc__ or "").strip().splitlines()[0].rstrip(".")
        fields = ", ".join(_field(f, model) for f in own_fields(model)) or "none"
        extra = f"`{model.EXTRA.name}`" if model.EXTRA else "none"
        rows.append(f"| `{name}` | {what} | {fields} | {extra} |")
    return "\n".join(rows)


def with_kinds_table(readme: str) -> str:
    """`readme` with the text between the markers replaced by the current table.

    Raises:
        ValueError: the markers are missing.

    """
    head, begin, rest = readme.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"README.md needs the markers {BEGIN!r} and {END!r}")
    return f"{head}{BEGIN}\n{kinds_table()}\n{END}{tail}"


def main() -> int:
    """Rewrite README.md's table of cluster kinds (run from the project root)."""
    path = Path("README.md")
    path.write_text(with_kinds_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
