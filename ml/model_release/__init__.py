"""The model release: the record a training run hands to the stack, and moving it around.

``ml.model_release.record``   the release record (versioned JSON schema) that `infra/` reads
``ml.model_release.kserve``   KServe facts shared by the stack and `serve check` (constants)
``ml.model_release.store``    the stack's object store (S3 API): endpoint and keys, a client
``ml.model_release.profile``  a profile's keys, its private prefix and pipeline root
``ml.model_release.fetch``    `kfstack release fetch`: the record of a promoted cluster run
``ml.model_release.publish``  `kfstack release publish`: upload a local model, rewrite its record

A model release is not a Kubeflow release (`infra.kubeflow`). Importing this package is
light (pydantic, yaml): fetch and publish load boto3 and kfp only when they run.
"""

from ml.model_release import fetch, kserve, profile, publish, record, store
from ml.model_release.fetch import *  # noqa: F403
from ml.model_release.kserve import *  # noqa: F403
from ml.model_release.profile import *  # noqa: F403
from ml.model_release.publish import *  # noqa: F403
from ml.model_release.record import *  # noqa: F403
from ml.model_release.store import *  # noqa: F403

__all__ = (
    record.__all__
    + kserve.__all__
    + store.__all__
    + profile.__all__
    + fetch.__all__
    + publish.__all__
)
