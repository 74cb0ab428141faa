"""KFP component: the candidate's metrics vs the serving model's -> a decision and a chart.

Returns `promote` (the value the pipeline's gate tests) and writes the output parameters
`better` and `meets_threshold`, plus an HTML page with one panel per metric for both
models: the "before and after" view in the KFP UI. The rules are in
`ml.components.core.comparison`, the chart in `ml.components.core.chart`.
"""

from kfp import dsl
from kfp.dsl import HTML, Dataset, Input, Metrics, Output

from ml.components.image import KFSTACK_IMAGE


@dsl.component(base_image=KFSTACK_IMAGE, install_kfp_package=False)
def compare(
    candidate: Input[Metrics],
    dataset: Input[Dataset],
    chart: Output[HTML],
    better: dsl.OutputPath(bool),  # type: ignore[valid-type]
    meets_threshold: dsl.OutputPath(bool),  # type: ignore[valid-type]
    *,
    serving_metrics: str = "",
    metric: str = "loss",
    threshold: str = "",
    direction: str = "auto",
    min_gain: float = 0.0,
) -> bool:
    """Compare the candidate with the serving model; draw both; return whether to promote.

    Args:
        candidate: The candidate's metrics (from `evaluate`, with the baseline's).
        dataset: The dataset the candidate was trained on (label, task, classes, inputs).
        chart: HTML page with one panel per metric for both models, and the decision.
        better: Output: the candidate is at least as good as the serving model (or none serves).
        meets_threshold: Output: the candidate's metric passes the threshold.
        serving_metrics: JSON of the serving model's release record or metrics; "" if none.
        metric: The metric the decision is made on.
        threshold: Minimum (maximize) or maximum (minimize) of the metric, a number; "": none.
        direction: "maximize", "minimize" or "auto" (loss, mae, rmse, mse are minimized).
        min_gain: How much better than the trivial baseline the metric must be.

    Returns:
        Whether the candidate is sane, comparable with the serving model, beats the baseline,
        meets the threshold and is not worse than the serving model.

    """
    from pathlib import Path

    from ml.components.core.chart import chart_html
    from ml.components.core.comparison import (
        Identity,
        candidate_metrics,
        decide,
        parse_serving,
        parse_threshold,
    )
    from ml.data import read_schema

    values = candidate_metrics(dict(candidate.metadata))
    serving = parse_serving(serving_metrics)
    decision = decide(
        values,
        serving,
        metric=metric,
        threshold=parse_threshold(threshold),
        direction=direction,
        min_gain=min_gain,
        identity=Identity.of_schema(read_schema(Path(dataset.path))),
    )
    print(decision.reason)
    Path(chart.path).parent.mkdir(parents=True, exist_ok=True)
    Path(chart.path).write_text(chart_html(values, serving, decision), encoding="utf-8")
    Path(better).write_text(str(decision.better).lower(), encoding="utf-8")
    Path(meets_threshold).write_text(str(decision.meets_threshold).lower(), encoding="utf-8")
    chart.metadata.update({"promote": decision.promote, "reason": decision.reason})
    return decision.promote
