"""Read the ml outputs that stack config names, before anything is registered (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.config_model import StackSettings
from infra.serving.inference import ServingOptions
from infra.serving.pipeline import PipelineObjects, pipeline_objects
from ml.model_release import ModelRelease, ReleaseError, load_release

PIPELINE_NAMESPACE = "kubeflow"


@dataclass(frozen=True)
class ServingInputs:
    """The release to serve, the one serving now, the pipeline, and how to serve."""

    options: ServingOptions
    release: ModelRelease | None = None
    serving_release: ModelRelease | None = None
    pipeline: PipelineObjects | None = None
    owners: tuple[str, ...] = ()  # emails of the users whose profile is the namespace


def _path(raw: str, base: Path) -> Path:
    path = Path(raw).expanduser()
    return path if path.is_absolute() else base / path


def _servable(path: Path) -> ModelRelease:
    """The release at `path`, refused while its model is only on the machine that trained it."""
    release = load_release(path)
    if release.is_local:
        raise ReleaseError(
            f"{path}: the model is only on this machine ({release.storage_uri}): upload it "
            "with `kfstack release publish`, which rewrites the record's storage_uri to s3://"
        )
    return release


def load_serving_inputs(settings: StackSettings, *, base: Path) -> ServingInputs | None:
    """Load what `kfstack:serving` names; None when the stack serves nothing.

    Raises:
        ReleaseError: a release record is missing, malformed or invalid (names the file).
        PipelinePackageError: the compiled pipeline is missing or not a KFP v2 spec.
    """
    serving = settings.serving
    if serving is None:
        return None
    options = ServingOptions(
        config=serving,
        namespace=settings.serving_namespace,
        await_ready=settings.kubeflow.test_mode is None,
    )
    release = _servable(_path(serving.release_record, base)) if serving.release_record else None
    current = (
        load_release(_path(serving.serving_release, base)) if serving.serving_release else None
    )
    pipeline = (
        pipeline_objects(_path(serving.pipeline_package, base), namespace=PIPELINE_NAMESPACE)
        if serving.pipeline_package
        else None
    )
    owners = tuple(
        user.email
        for user in settings.kubeflow.users
        if user.resolved_profile() == options.namespace
    )
    return ServingInputs(
        options=options,
        release=release,
        serving_release=current,
        pipeline=pipeline,
        owners=owners,
    )
