"""The data stage: CSV -> validated, split dataset directory -> tf.data, and its report.

``ml.data.csvread``  CSV -> typed Arrow table, problems by line and column
``ml.data.schema``   the spec a user writes (DatasetSpec) and the schema written beside the data
``ml.data.columns``  a spec resolved against a file: columns, kinds, labels, missing values
``ml.data.dates``, ``ml.data.words``  ISO dates and free-text columns as model inputs
``ml.data.splits``   seeded, stratified train/validation/test splits
``ml.data.stats``    fill values and per-column statistics (statistics.json)
``ml.data.tfdata``   tf.data pipelines over a split, in memory or streaming
``ml.data.dataset``  `build_dataset` and the readers of a built dataset
``ml.data.report``   `kfstack data inspect`: a data-quality report of a CSV
``ml.data.errors``   DataError, the one error for bad input, listing every problem

Names are imported on first use: importing `ml.data` loads neither pyarrow nor TensorFlow.
"""

from typing import TYPE_CHECKING

from kfstack.lazy import lazy_getattr

if TYPE_CHECKING:
    from ml.data.columns import validate_csv
    from ml.data.csvread import LineMap, read_header, read_table
    from ml.data.dataset import (
        BuiltDataset,
        build_dataset,
        inspect_csv,
        load_split,
        read_split,
        read_statistics,
    )
    from ml.data.dates import date_layer, date_summary
    from ml.data.errors import DataError, Problem, ProblemList
    from ml.data.report import print_report
    from ml.data.schema import (
        NULL_VALUES,
        SCHEMA_FILE,
        STATISTICS_FILE,
        DatasetSchema,
        DatasetSpec,
        read_schema,
        sanitize_names,
    )
    from ml.data.splits import fold_indices
    from ml.data.tfdata import in_memory_dataset, streaming_dataset
    from ml.data.words import frequent_words, words, words_layer

__all__ = [
    "NULL_VALUES",
    "SCHEMA_FILE",
    "STATISTICS_FILE",
    "BuiltDataset",
    "DataError",
    "DatasetSchema",
    "DatasetSpec",
    "LineMap",
    "Problem",
    "ProblemList",
    "build_dataset",
    "date_layer",
    "date_summary",
    "fold_indices",
    "frequent_words",
    "in_memory_dataset",
    "inspect_csv",
    "load_split",
    "print_report",
    "read_header",
    "read_schema",
    "read_split",
    "read_statistics",
    "read_table",
    "sanitize_names",
    "streaming_dataset",
    "validate_csv",
    "words",
    "words_layer",
]

__getattr__ = lazy_getattr(
    __name__,
    __all__,
    (
        "schema",
        "errors",
        "csvread",
        "columns",
        "splits",
        "stats",
        "report",
        "dates",
        "words",
        "tfdata",
        "dataset",
    ),
)
