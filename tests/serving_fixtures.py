"""Small real inputs for serving tests: release records and a compiled pipeline."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from infra.config_model import ServingConfig
from infra.serving.inference import ServingOptions
from ml.model_release import InputColumn, ModelRelease, write_release

PIPELINE_SPEC = {
    "pipelineInfo": {"name": "kfstack-training", "description": "CSV to served model"},
    "schemaVersion": "2.1.0",
    "sdkVersion": "kfp-2.17.3",
    "root": {"dag": {"tasks": {"train": {"taskInfo": {"name": "train"}}}}},
    "components": {},
    "deploymentSpec": {"executors": {}},
}


def make_release(
    version: str = "1", *, storage: str = "s3://models/iris/r1", **extra: object
) -> ModelRelease:
    fields: dict[str, object] = {
        "name": "iris",
        "version": version,
        "serving_version": 1,
        "storage_uri": storage,
        "metrics": {"accuracy": 0.93, "auc": 0.97},
        "input_schema": (
            InputColumn(name="sepal_length", kind="numeric", dtype="float32"),
            InputColumn(name="species_hint", kind="categorical", dtype="string"),
        ),
        "created_at": datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
        "description": "iris classifier",
    }
    fields.update(extra)
    return ModelRelease.model_validate(fields)


def write_release_file(path: Path, release: ModelRelease) -> Path:
    write_release(release, path)
    return path


def write_pipeline(path: Path, *, description: str = "CSV to served model") -> Path:
    info = {"name": "kfstack-training", "description": description}
    spec = {**PIPELINE_SPEC, "pipelineInfo": info}
    path.write_text(yaml.safe_dump(spec, sort_keys=True))
    return path


def serving_options(namespace: str, *, await_ready: bool = True, **fields: Any) -> ServingOptions:
    """ServingOptions over a `kfstack:serving` with `fields` (camelCase or snake_case) set."""
    config = ServingConfig.model_validate({"releaseRecord": "release.json", **fields})
    return ServingOptions(config=config, namespace=namespace, await_ready=await_ready)


# Files of the 26.03 release that hold the CRDs of what the stack serves.
ISTIO_CRDS = "common/istio/istio-crds/base/crd.yaml"
KSERVE_CRDS = "applications/kserve/kserve/kserve_kubeflow.yaml"
_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def release_crd(manifests: Path, relative: str, name: str) -> dict[str, Any]:
    """The CRD `name` from a release file, parsed once a session (the KServe file is 3.7 MB).

    Callers must not mutate it: it is shared.
    """
    text = (manifests / relative).read_text(encoding="utf-8")
    for document in yaml.load_all(text, Loader=_LOADER):
        is_crd = document and document.get("kind") == "CustomResourceDefinition"
        if is_crd and document["metadata"]["name"] == name:
            return dict(document)
    raise AssertionError(f"{name} not in {relative}")
