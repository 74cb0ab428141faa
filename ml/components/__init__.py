"""KFP v2 components of the kfstack training pipeline, one per module.

=====================================  =====================================================
``ml.components.ingest_validate``      CSV -> validated, split dataset directory
``ml.components.train``                dataset -> SavedModel (TF Serving layout)
``ml.components.evaluate``             model + dataset -> Metrics, ClassificationMetrics
``ml.components.compare``              candidate vs serving metrics -> HTML chart, verdict
``ml.components.write_release``        model + metrics + schema -> release record JSON
=====================================  =====================================================

Each module holds one lightweight Python component named like the module
(``from ml.components.train import train``) on `KFSTACK_IMAGE`; its body imports the `ml`
package (TensorFlow, matplotlib) itself and calls the pure functions of
`ml.components.core`, which unit tests call too. This package imports no component: a
component body runs under kfp's executor, where `kfp.dsl.component` does not exist.
"""

from ml.components.image import KFSTACK_IMAGE

__all__ = ["KFSTACK_IMAGE"]
