"""KFP v2 pipelines built from `ml.components`, compiled to IR YAML or run with `kfp.local`.

``ml.pipelines.training``   the training pipeline and `compile_pipeline`
``ml.pipelines.local``      `run_local`: the whole pipeline on a laptop, results in one directory
``ml.pipelines.dag``        a picture (SVG, Mermaid) of a compiled pipeline's DAG
``ml.pipelines.image_lock`` the component image by digest, recorded per project version
``ml.pipelines.remote``     the KFP v2beta1 API: upload a version, start and follow a run

Their commands are in `kfstack.cli.pipeline` and `kfstack.cli.pipeline_run`.
"""
