"""The serving signature of an exported model, and calling it as a client would.

`export` writes the TF Serving layout (`saved_model.pb`, `variables/`) with one signature,
`serving_default`, that takes the raw columns by sanitized key (numeric columns as float64,
so JSON numbers of any kind and numpy's default dtype fit; categorical as strings) and
returns named outputs:

- classification: `label` (the predicted class name), `probabilities` (rows x classes, in
  the order of `classes`) and `classes` (the class names, repeated per row);
- regression: `value`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ml.data import DatasetSchema

if TYPE_CHECKING:
    import keras

#: Output names of the serving signature.
LABEL, PROBABILITIES, CLASSES, VALUE = "label", "probabilities", "classes", "value"
#: The dtype numeric inputs take in the serving signature.
NUMERIC_DTYPE = "float64"

__all__ = ["export", "input_dtype", "predict_columns", "predict_rows"]


def input_dtype(kind: str) -> str:
    """The serving signature's dtype of a column of this kind."""
    return NUMERIC_DTYPE if kind == "numeric" else "string"


def export(model: keras.Model, schema: DatasetSchema, directory: Path) -> None:
    """Write `model` with the serving signature described above to `directory`."""
    import keras
    import tensorflow as tf

    numeric = {c.key for c in schema.numeric}
    spec = {
        c.key: tf.TensorSpec([None], tf.float64 if c.key in numeric else tf.string, name=c.key)
        for c in schema.features
    }
    classes = schema.label.classes

    def serve(columns: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        inputs = {k: tf.cast(v, tf.float32) if k in numeric else v for k, v in columns.items()}
        output = model(inputs, training=False)
        if classes is None:
            return {VALUE: output}
        names = tf.constant(list(classes))
        return {
            LABEL: tf.gather(names, tf.argmax(output, axis=1)),
            PROBABILITIES: output,
            CLASSES: tf.tile(names[None, :], [tf.shape(output)[0], 1]),
        }

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", serve, input_signature=[spec])
    archive.write_out(str(directory), verbose=False)


def _serving(export_dir: Path) -> Any:
    import tensorflow as tf

    return tf.saved_model.load(str(export_dir)).signatures["serving_default"]


def _as_input(values: np.ndarray) -> Any:
    import tensorflow as tf

    if values.dtype.kind in "biuf":
        return tf.constant(values.astype(np.float64))
    return tf.constant(values.astype(str) if values.dtype.kind != "U" else values)


def predict_columns(export_dir: Path, features: dict[str, np.ndarray], batch: int = 8192) -> Any:
    """Call an exported model's `serving_default` signature on raw columns, in batches.

    Numeric columns may have any numeric dtype (they are sent as float64).

    Returns:
        Class probabilities (rows x classes) for classification, values for regression.

    """
    signature = _serving(Path(export_dir))
    rows = len(next(iter(features.values())))
    outputs = []
    for start in range(0, rows, batch):
        chunk = {k: _as_input(np.asarray(v[start : start + batch])) for k, v in features.items()}
        result = signature(**chunk)
        outputs.append(result[PROBABILITIES if PROBABILITIES in result else VALUE].numpy())
    return np.concatenate(outputs) if outputs else np.empty((0,))


def predict_rows(export_dir: Path, rows: list[dict[str, Any]]) -> list[Any]:
    """Predict raw rows with an exported model, as a client of the serving signature would.

    Rows are keyed by header name or by key; a missing key or None is a missing value.

    Returns:
        Per row, {"label": class, "probabilities": {class: p}} for classification, or the
        predicted value for regression.

    """
    from ml.data import read_schema
    from ml.model.export import EXTRA

    export_dir = Path(export_dir)
    schema = read_schema(export_dir / EXTRA)
    columns: dict[str, np.ndarray] = {}
    for c in schema.features:
        values = [_cell(row, c.name, c.key) for row in rows]
        if c.kind == "numeric":
            columns[c.key] = np.array([np.nan if v is None else float(v) for v in values])
        else:
            columns[c.key] = np.array(["" if v is None else str(v) for v in values], dtype=object)
    output = predict_columns(export_dir, columns)
    classes = schema.label.classes
    if classes is None:
        return [float(v) for v in output]
    return [
        {
            "label": classes[int(p.argmax())],
            "probabilities": dict(zip(classes, map(float, p), strict=True)),
        }
        for p in output
    ]


def _cell(row: dict[str, Any], name: str, key: str) -> Any:
    value = row.get(name, row.get(key))
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
