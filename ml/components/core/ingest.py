"""The data-preparation step: pipeline parameters -> the `ml.data.DatasetSpec` to build with."""

from ml.schema import DatasetSpec

#: Values allowed in `column_kinds`.
KINDS = ("numeric", "categorical", "ignore")


def dataset_spec(label: str, column_kinds: dict[str, str], task: str = "") -> DatasetSpec:
    """Return the DatasetSpec for `label` and a mapping of column -> numeric|categorical|ignore.

    Raises:
        ValueError: an unknown kind or task (all of them listed), or an inconsistent spec.

    """
    bad = [f"{column!r}: {kind!r}" for column, kind in column_kinds.items() if kind not in KINDS]
    if bad:
        raise ValueError(f"column kinds must be one of {', '.join(KINDS)}; got {', '.join(bad)}")
    if task not in ("", "classification", "regression"):
        raise ValueError(f"task must be classification, regression or empty, not {task!r}")
    by_kind = {kind: tuple(c for c, k in column_kinds.items() if k == kind) for kind in KINDS}
    return DatasetSpec(
        label=label,
        task=task or None,  # type: ignore[arg-type]
        numeric=by_kind["numeric"],
        categorical=by_kind["categorical"],
        ignore=by_kind["ignore"],
    )
