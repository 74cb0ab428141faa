"""KFP component: a CSV -> a validated, split dataset directory (`ml.data.dataset.build_dataset`).

The output Dataset is the directory `build_dataset` writes: train.csv, validation.csv,
test.csv, schema.json and statistics.json. Invalid data fails the task with the
`ml.data.errors.DataError` message (every problem, by line and column).
"""

from kfp import dsl
from kfp.dsl import Dataset, Input, Output

from ml.components.image import KFSTACK_IMAGE


@dsl.component(base_image=KFSTACK_IMAGE, install_kfp_package=False)
def ingest_validate(
    csv: Input[Dataset],
    dataset: Output[Dataset],
    *,
    spec: dict,
    seed: int = 0,
) -> None:
    """Validate `csv` and write the dataset directory (splits, schema.json, statistics.json).

    Args:
        csv: The source CSV (UTF-8, header on the first line).
        dataset: The built dataset directory.
        spec: The `ml.data.schema.DatasetSpec` as JSON: label, column kinds, columns to drop,
            task, classes, delimiter; what it leaves out is inferred.
        seed: Seed of the deterministic split.

    """
    from pathlib import Path

    from ml.components.core.ingest import dataset_spec
    from ml.data import build_dataset

    built = build_dataset(Path(csv.path), dataset_spec(dict(spec)), Path(dataset.path), seed=seed)
    schema = built.schema
    dataset.metadata.update(
        {
            "label": schema.label.name,
            "task": schema.label.task,
            "classes": list(schema.label.classes or ()),
            "features": [c.key for c in schema.features],
            "rows": dict(built.rows),
            "dropped": dict(built.dropped),
        }
    )
