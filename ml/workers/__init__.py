"""Training on several workers: TensorFlow's MultiWorkerMirroredStrategy over a sharded dataset.

``ml.workers.cluster`` TF_CONFIG, a worker's place, the step counts all workers share (pure)
``ml.workers.spec``    the run as every worker reads it (JSON)
``ml.workers.worker``  one worker's program: `python -m ml.workers.worker --spec FILE`
``ml.workers.local``   `train_workers`: N worker processes on loopback, failures named

Names are imported on first use: importing `ml.workers` loads no TensorFlow.
"""

from typing import TYPE_CHECKING

from kfstack.lazy import lazy_getattr

if TYPE_CHECKING:
    from ml.workers.cluster import Place, Steps, place, steps, tf_config
    from ml.workers.local import WorkerError, train_workers
    from ml.workers.spec import WorkerSpec
    from ml.workers.worker import evaluate_shards

__all__ = [
    "Place",
    "Steps",
    "WorkerError",
    "WorkerSpec",
    "evaluate_shards",
    "place",
    "steps",
    "tf_config",
    "train_workers",
]

__getattr__ = lazy_getattr(__name__, __all__, ("cluster", "spec", "local", "worker"))
