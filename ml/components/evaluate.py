"""KFP component: a trained model + a built dataset -> evaluation metrics.

Scalar metrics (accuracy, auc, loss for a classifier; mae, rmse, loss for a regressor) go to a
Metrics artifact; a classifier also gets a confusion matrix, and a binary one a ROC curve, in
a ClassificationMetrics artifact (the KFP UI draws both). The model is evaluated through its
exported `serving_default` signature on raw columns, as KServe will call it.
"""

from kfp import dsl
from kfp.dsl import ClassificationMetrics, Dataset, Input, Metrics, Model, Output

from ml.components.image import KFSTACK_IMAGE


@dsl.component(base_image=KFSTACK_IMAGE, install_kfp_package=False)
def evaluate(
    model: Input[Model],
    dataset: Input[Dataset],
    metrics: Output[Metrics],
    classification: Output[ClassificationMetrics],
    split: str = "test",
) -> None:
    """Evaluate `model` on a split of `dataset`; log scalar and classification metrics.

    Args:
        model: The export root written by `train` (`<path>/<version>/`).
        dataset: The dataset directory written by `ingest_validate`.
        metrics: Scalar metrics, and `baseline_<name>` ones of the trivial model (majority
            class / train mean) on the same rows; also written to its path as JSON.
        classification: Confusion matrix (classifiers) and ROC curve (binary classifiers).
        split: The split to evaluate on.

    """
    import json
    from pathlib import Path

    from ml.components.core.evaluation import evaluate_split, finite
    from ml.components.core.model_dir import version_dir

    result = evaluate_split(version_dir(model.path), Path(dataset.path), split)
    for name, value in finite(result.metrics).items():
        metrics.log_metric(name, value)
    for name, value in finite(result.baseline).items():
        if name != "rows":
            metrics.log_metric(f"baseline_{name}", value)
    Path(metrics.path).parent.mkdir(parents=True, exist_ok=True)
    record = {
        "split": split,
        "metrics": finite(result.metrics),
        "baseline": finite(result.baseline),
    }
    Path(metrics.path).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if result.confusion:
        classification.log_confusion_matrix(result.classes, result.confusion)
    if result.roc:
        classification.log_roc_curve(result.roc["fpr"], result.roc["tpr"], result.roc["thresholds"])
