"""The model release: the record a training run hands to the stack, and moving it around.

``ml.model_release.record``   the release record (versioned JSON schema) that `infra/` reads
``ml.model_release.kserve``   KServe facts shared by the stack and `serve check` (constants)
``ml.model_release.store``    the stack's object store (S3 API): endpoint and keys, a client
``ml.model_release.fetch``    `kfstack release fetch`: the record of a promoted cluster run
``ml.model_release.publish``  `kfstack release publish`: upload a local model, rewrite its record

A model release is not a Kubeflow release (`infra.kubeflow`). Names are imported on first
use: the record needs pydantic only; fetch and publish load boto3 and kfp when they run.
"""

from typing import TYPE_CHECKING

from kfstack.lazy import lazy_getattr

if TYPE_CHECKING:
    from ml.model_release.fetch import DEFAULT_PIPELINE_ROOT, fetch_release
    from ml.model_release.kserve import TAG_ROUTING_ANNOTATION
    from ml.model_release.publish import DEFAULT_BUCKET, DEFAULT_PREFIX, publish_release
    from ml.model_release.record import (
        MODEL_NAME_MAX,
        MODEL_NAME_PATTERN,
        SCHEMA_VERSION,
        ColumnKind,
        InputColumn,
        ModelFormat,
        ModelRelease,
        PipelineRun,
        ReleaseError,
        load_release,
        normalise_storage_uri,
        release_json_schema,
        write_release,
    )
    from ml.model_release.store import DEFAULT_ENDPOINT, object_store

__all__ = [
    "DEFAULT_BUCKET",
    "DEFAULT_ENDPOINT",
    "DEFAULT_PIPELINE_ROOT",
    "DEFAULT_PREFIX",
    "MODEL_NAME_MAX",
    "MODEL_NAME_PATTERN",
    "SCHEMA_VERSION",
    "TAG_ROUTING_ANNOTATION",
    "ColumnKind",
    "InputColumn",
    "ModelFormat",
    "ModelRelease",
    "PipelineRun",
    "ReleaseError",
    "fetch_release",
    "load_release",
    "normalise_storage_uri",
    "object_store",
    "publish_release",
    "release_json_schema",
    "write_release",
]

_EXPORTS = {
    "ml.model_release.fetch": ("DEFAULT_PIPELINE_ROOT", "fetch_release"),
    "ml.model_release.kserve": ("TAG_ROUTING_ANNOTATION",),
    "ml.model_release.publish": ("DEFAULT_BUCKET", "DEFAULT_PREFIX", "publish_release"),
    "ml.model_release.record": (
        "MODEL_NAME_MAX",
        "MODEL_NAME_PATTERN",
        "SCHEMA_VERSION",
        "ColumnKind",
        "InputColumn",
        "ModelFormat",
        "ModelRelease",
        "PipelineRun",
        "ReleaseError",
        "load_release",
        "normalise_storage_uri",
        "release_json_schema",
        "write_release",
    ),
    "ml.model_release.store": ("DEFAULT_ENDPOINT", "object_store"),
}
__getattr__ = lazy_getattr(__name__, _EXPORTS)
