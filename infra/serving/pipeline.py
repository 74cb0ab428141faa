"""A compiled KFP pipeline as Kubernetes-native Pipeline and PipelineVersion objects.

KFP 2.x can keep pipeline definitions as `pipelines.kubeflow.org/v2beta1` resources
(the catalogue's `pipelineDefinitions: kubernetes`), so a pipeline change is a
`pulumi preview` diff. The version name carries a digest of the spec: a changed
pipeline is a new PipelineVersion; earlier versions are retained for their runs, and so
is the Pipeline: KFP's webhook makes it the owner of its versions, so deleting it would
garbage-collect them.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.kubeflow import Manifest
from infra.safe_yaml import UnsafeDocumentError, load_all

API_VERSION = "pipelines.kubeflow.org/v2beta1"


class PipelinePackageError(ValueError):
    """The compiled pipeline cannot be read or is not a KFP v2 pipeline spec."""


@dataclass(frozen=True)
class PipelineObjects:
    """The Pipeline and the PipelineVersion of one compiled pipeline."""

    pipeline: Manifest
    version: Manifest
    digest: str


def dns_name(value: str) -> str:
    """A DNS-1123 label from a pipeline's display name."""
    slug = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")
    return slug[:63].rstrip("-") or "pipeline"


def read_package(path: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Read a compiled pipeline (IR YAML): its pipeline spec and optional platform spec.

    Raises:
        PipelinePackageError: missing file, invalid YAML or not a KFP v2 pipeline spec.
    """
    if not path.is_file():
        raise PipelinePackageError(
            f"{path}: compiled pipeline not found (kfstack:serving.pipelinePackage); "
            "make it with `kfstack pipeline compile --out FILE`"
        )
    try:
        documents = [d for d in load_all(path.read_bytes(), source=str(path)) if d]
    except UnsafeDocumentError as exc:
        raise PipelinePackageError(str(exc)) from None
    if not documents or not isinstance(documents[0], dict):
        raise PipelinePackageError(f"{path}: empty, or not a mapping")
    spec = documents[0]
    missing = [k for k in ("pipelineInfo", "root", "schemaVersion") if k not in spec]
    if missing:
        raise PipelinePackageError(
            f"{path}: not a KFP v2 pipeline spec (missing {', '.join(missing)})"
        )
    platform = documents[1] if len(documents) > 1 and isinstance(documents[1], dict) else None
    return spec, platform


def pipeline_objects(path: Path, *, namespace: str) -> PipelineObjects:
    """The Pipeline + PipelineVersion manifests for the compiled pipeline at `path`."""
    spec, platform = read_package(path)
    name = dns_name(str(spec["pipelineInfo"].get("name", path.stem)))
    body = json.dumps([spec, platform], sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(body.encode()).hexdigest()
    description = str(spec["pipelineInfo"].get("description", ""))
    pipeline: Manifest = {
        "apiVersion": API_VERSION,
        "kind": "Pipeline",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"displayName": name, "description": description},
    }
    version_spec: dict[str, Any] = {
        "pipelineName": name,
        "displayName": f"{name} {digest[:10]}",
        "description": description,
        "pipelineSpec": spec,
    }
    if platform is not None:
        version_spec["platformSpec"] = platform
    version: Manifest = {
        "apiVersion": API_VERSION,
        "kind": "PipelineVersion",
        # No `pipelines.kubeflow.org/pipeline-id` label: KFP's webhook sets it (to the
        # Pipeline's uid) together with an ownerReference to the Pipeline; a value of ours
        # would be rewritten and show as drift on every refresh.
        "metadata": {"name": f"{name}-{digest[:10]}"[:63], "namespace": namespace},
        "spec": version_spec,
    }
    return PipelineObjects(pipeline=pipeline, version=version, digest=digest)
