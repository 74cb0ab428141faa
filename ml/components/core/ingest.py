"""The data-preparation step: the pipeline's `dataset_spec` parameter -> a `DatasetSpec`."""

from typing import Any

from pydantic import ValidationError

from ml.data import DatasetSpec


def dataset_spec(spec: dict[str, Any]) -> DatasetSpec:
    """Validate the `dataset_spec` pipeline parameter (a `DatasetSpec` as JSON).

    Raises:
        ValueError: not a valid DatasetSpec; every invalid field named.

    """
    try:
        return DatasetSpec.model_validate(spec)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg'].removeprefix('Value error, ')}"
            for e in err.errors()
        )
        raise ValueError(f"invalid dataset_spec: {problems}") from None


def spec_parameter(spec: DatasetSpec) -> dict[str, Any]:
    """A DatasetSpec as the pipeline parameter: JSON values, defaults left out."""
    return spec.model_dump(mode="json", exclude_defaults=True)
