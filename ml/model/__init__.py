"""The model stage: a Keras model with its preprocessing inside, trained, evaluated, exported.

``ml.model.architecture`` the model's structure, preprocessing inside (TensorFlow)
``ml.model.network``   training and evaluating it (TensorFlow)
``ml.model.layers``    its fill layers for missing cells
``ml.model.training``  batch size, epochs, patience and class weights from the data (pure)
``ml.model.crossfit``  cross-fitted ensembles for small files
``ml.model.metrics``   evaluation metrics in numpy, the same for a Keras and an exported model
``ml.model.serving``   the serving signature and calling it as a client would
``ml.model.export``    model versions on disk (TF Serving layout) and the files beside them

Names are imported on first use: `TrainConfig` does not load TensorFlow, `train` does.
"""

from typing import TYPE_CHECKING

from kfstack.lazy import lazy_getattr

if TYPE_CHECKING:
    from ml.model.architecture import build_model, free_text_words
    from ml.model.export import json_safe
    from ml.model.metrics import (
        baseline_metrics,
        classification_metrics,
        regression_metrics,
        roc_auc,
    )
    from ml.model.network import (
        TrainingError,
        TrainResult,
        evaluate,
        predict_columns,
        predict_rows,
        train,
    )
    from ml.model.serving import CLASSES, PROBABILITIES, VALUE, input_dtype
    from ml.model.training import Plan, TrainConfig

__all__ = [
    "CLASSES",
    "PROBABILITIES",
    "VALUE",
    "Plan",
    "TrainConfig",
    "TrainResult",
    "TrainingError",
    "baseline_metrics",
    "build_model",
    "classification_metrics",
    "evaluate",
    "free_text_words",
    "input_dtype",
    "json_safe",
    "predict_columns",
    "predict_rows",
    "regression_metrics",
    "roc_auc",
    "train",
]

__getattr__ = lazy_getattr(
    __name__,
    __all__,
    ("training", "metrics", "export", "serving", "layers", "architecture", "network"),
)
