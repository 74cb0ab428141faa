"""The typed shape of stack config: pydantic models with the one set of defaults.

Pure data, no Pulumi: `infra/config.py` feeds these models from `pulumi.Config` (under
the engine) or from a stack file (`kfstack plan`). Keys are camelCase in the stack
files, as is usual for Pulumi config; every model forbids unknown keys.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args

from pydantic import Field, SerializeAsAny, WrapValidator, field_validator, model_validator

from infra.cluster.base import ClusterBase
from infra.cluster.kinds import DEFAULT_KIND, cluster_kind, validate_cluster
from infra.config_inputs import check_git_ref, check_git_url
from infra.config_types import ConfigModel, DnsLabel, Duration
from infra.kubeflow import SECRETS as CREDENTIALS
from infra.kubeflow import (
    SUPPORTED_KUBERNETES,
    TRAINING_COMPONENTS,
    TRAINING_RELEASES,
    parse_allow_entry,
)
from infra.kubeflow.credential_specs import OPTIONAL_SECRETS
from infra.kubeflow.settings import PipelineDefinitions, PodSecurityLevel, Preset, TestMode

# SUPPORTED_KUBERNETES (release -> Kubernetes minor versions) is the release table's
# (infra/kubeflow/catalogue/tables/releases.toml); the plan validates against the chosen version.

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# `kfstack:cluster`: the model of its kind (infra/cluster/kinds.py), picked by `kind`.
ClusterConfig = Annotated[SerializeAsAny[ClusterBase], WrapValidator(validate_cluster)]


def default_cluster() -> ClusterBase:
    """The cluster of a stack that configures none: the default kind's defaults."""
    return cluster_kind(DEFAULT_KIND).CONFIG.model_validate({})


class GitSource(ConfigModel):
    """A pinned git source of the release's manifests."""

    url: str = "https://github.com/kubeflow/manifests.git"
    ref: str = Field(min_length=1, description="A tag or commit; never a branch.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_git_url(value)

    @field_validator("ref")
    @classmethod
    def _ref(cls, value: str) -> str:
        return check_git_ref(value)


class SourceConfig(ConfigModel):
    """`kfstack:kubeflow.source`: a local path (air-gapped, tests) or a pinned git ref."""

    path: str | None = None
    git: GitSource | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.path is None) == (self.git is None):
            raise ValueError("set exactly one of 'path' and 'git'")
        return self


class UserConfig(ConfigModel):
    """A Kubeflow user: a Dex static user and the Profile (namespace) it owns."""

    email: str
    profile: DnsLabel | None = None  # it names a namespace

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError("must be an email address")
        return value

    def resolved_profile(self) -> str:
        """The profile name; by default derived from the email, as Kubeflow does."""
        if self.profile:
            return self.profile
        slug = re.sub(r"[^a-z0-9]+", "-", self.email.lower()).strip("-")
        return f"kubeflow-{slug}"[:63].rstrip("-")


# The Kubeflow release of a stack that names none (its source: the release's own tag).
DEFAULT_RELEASE = "26.03"


class KubeflowConfig(ConfigModel):
    """`kfstack:kubeflow`: the platform release, its components and its settings."""

    release: str = DEFAULT_RELEASE
    source: SourceConfig = Field(
        default_factory=lambda: SourceConfig(git=GitSource(ref=DEFAULT_RELEASE)),
    )
    preset: Preset | None = "full"
    components: tuple[str, ...] = ()
    pipeline_definitions: PipelineDefinitions = "database"
    users: tuple[UserConfig, ...] = (UserConfig(email="user@example.com"),)
    registry_mirror: str | None = None
    allow_privileged: tuple[str, ...] = ()
    pod_security: PodSecurityLevel = Field(
        default="baseline",
        description="Pod Security Standards level every pod spec must meet (restricted: opt-in).",
    )
    protect_data: bool = False
    resource_scale: float = Field(default=1.0, gt=0.0, le=4.0)
    generate_secrets: bool = True
    # The engine tier's fake-node control plane (kwok): webhooks fail open. Never in a real stack.
    test_mode: TestMode | None = None

    @model_validator(mode="before")
    @classmethod
    def _source_follows_release(cls, data: Any) -> Any:
        """With no source, the release's own tag of kubeflow/manifests (tags are the names)."""
        if isinstance(data, dict) and "source" not in data and data.get("release"):
            return {**data, "source": {"git": {"ref": str(data["release"])}}}
        return data

    @model_validator(mode="after")
    def _selection(self) -> Self:
        if self.preset is None and not self.components:
            presets = ", ".join(map(repr, get_args(Preset)))
            raise ValueError(f"set a preset ({presets}) or a list of components")
        if self.release not in SUPPORTED_KUBERNETES:
            known = ", ".join(sorted(SUPPORTED_KUBERNETES))
            raise ValueError(f"release {self.release!r} is not supported; known: {known}")
        if not self.users:
            raise ValueError("users needs at least one user (the first is the admin)")
        return self

    @field_validator("allow_privileged")
    @classmethod
    def _allow_entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            parse_allow_entry(entry)
        return value


StorageMode = Literal["uri", "model-registry"]


class ServingConfig(ConfigModel):
    """`kfstack:serving`: the ml outputs the stack registers and serves."""

    pipeline_package: str | None = None
    release_record: str | None = None
    serving_release: str | None = Field(
        default=None,
        description="The release record now serving: a new release then gets a canary.",
    )
    namespace: str | None = None
    storage: StorageMode = "uri"
    runtime_version: str = "2.19.0"
    min_replicas: int = Field(default=1, ge=0, le=100)
    max_replicas: int = Field(default=2, ge=1, le=100)
    canary_traffic_percent: int = Field(default=10, ge=0, le=100)
    cpu: str = "1"
    memory: str = "2Gi"
    service_account: str | None = None
    ready_timeout: Duration = Field(
        default="15m",
        description="How long `pulumi up` waits for the InferenceService to be Ready "
        "(e.g. 900s, 15m, 1h) before it fails.",
    )

    @model_validator(mode="after")
    def _replicas(self) -> Self:
        if self.max_replicas < self.min_replicas:
            raise ValueError("maxReplicas must be >= minReplicas")
        if self.pipeline_package is None and self.release_record is None:
            raise ValueError("set pipelinePackage and/or releaseRecord, or leave out 'serving'")
        if self.serving_release is not None and self.release_record is None:
            raise ValueError("servingRelease needs releaseRecord (the release to roll out)")
        return self


TrainingRuntime = Literal["auto", "trainjob", "tfjob"]


class TrainingConfig(ConfigModel):
    """`kfstack:training`: the pipeline's train step as a Kubeflow training job of workers."""

    runtime: TrainingRuntime = Field(
        default="auto",
        description="trainjob (the Trainer), tfjob (the Training Operator) or auto: the "
        "one the release has",
    )
    max_workers: int = Field(
        default=1, ge=1, le=64, description="Most workers a run may ask for; 1: no jobs."
    )


# The secret config keys, one per credential the platform needs (the catalogue of
# credentials, infra/kubeflow/credential_specs.py). Each, when absent, is generated and kept
# in state, unless kubeflow.generateSecrets is false (prod).
SECRET_KEYS: dict[str, str] = {spec.config_key: spec.description for spec in CREDENTIALS.values()}
# Secret keys a stack may set but never must (the installation salt).
OPTIONAL_SECRET_KEYS: dict[str, str] = dict(OPTIONAL_SECRETS)


class StackSettings(ConfigModel):
    """The whole non-secret stack config, validated; secrets are listed by presence only."""

    stack: str = Field(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
    cluster: ClusterConfig = Field(default_factory=default_cluster)
    kubeflow: KubeflowConfig = Field(default_factory=KubeflowConfig)
    serving: ServingConfig | None = None
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    provided_secrets: frozenset[str] = frozenset()

    @field_validator("serving", mode="before")
    @classmethod
    def _empty_serving_is_none(cls, value: object) -> object:
        # Pulumi.yaml defaults `serving` to {} (the CLI requires a default): nothing served.
        return None if value == {} else value

    @model_validator(mode="after")
    def _cross(self) -> Self:
        supported = SUPPORTED_KUBERNETES[self.kubeflow.release]
        if self.cluster.kubernetes_version not in supported:
            raise ValueError(
                f"cluster.kubernetesVersion {self.cluster.kubernetes_version!r} is not "
                f"supported by Kubeflow {self.kubeflow.release}; allowed: {', '.join(supported)}"
            )
        return self

    @model_validator(mode="after")
    def _serving(self) -> Self:
        serving = self.serving
        if (
            serving
            and serving.pipeline_package
            and self.kubeflow.pipeline_definitions != "kubernetes"
        ):
            raise ValueError(
                "serving.pipelinePackage needs kubeflow.pipelineDefinitions: kubernetes "
                "(pipelines as Kubernetes resources, so a pipeline change is a preview diff)"
            )
        return self

    @model_validator(mode="after")
    def _training(self) -> Self:
        training = self.training
        if training.max_workers == 1:
            return self
        has = TRAINING_RELEASES.get(self.kubeflow.release, ())
        wanted = has if training.runtime == "auto" else (TRAINING_COMPONENTS[training.runtime],)
        if not set(wanted) & set(has):
            have = ", ".join(k for k, c in TRAINING_COMPONENTS.items() if c in has) or "none"
            raise ValueError(
                f"training.runtime {training.runtime!r}: Kubeflow {self.kubeflow.release} "
                f"has no {' or '.join(wanted) or 'training component'} (its job kinds: {have})"
            )
        return self

    @property
    def training_component(self) -> str | None:
        """The release component the training jobs need (None: no jobs, maxWorkers 1)."""
        if self.training.max_workers == 1:
            return None
        if self.training.runtime != "auto":
            return TRAINING_COMPONENTS[self.training.runtime]
        return TRAINING_RELEASES[self.kubeflow.release][0]

    @property
    def serving_namespace(self) -> str:
        """The namespace of served models: configured, else the first user's profile."""
        if self.serving and self.serving.namespace:
            return self.serving.namespace
        return self.kubeflow.users[0].resolved_profile()

    def missing_secrets(self) -> tuple[str, ...]:
        """Secret keys that must be set because the stack does not generate them."""
        if self.kubeflow.generate_secrets:
            return ()
        return tuple(sorted(set(SECRET_KEYS) - self.provided_secrets))

    @property
    def cluster_name(self) -> str:
        """The cluster's name: configured, or kfstack-<stack>."""
        return self.cluster.name or f"kfstack-{self.stack.lower()}"[:63]

    def source_path(self, base: Path) -> Path | None:
        """The manifests path made absolute against `base` (the project dir), if a path."""
        raw = self.kubeflow.source.path
        if raw is None:
            return None
        path = Path(raw).expanduser()
        return path if path.is_absolute() else (base / path).resolve()
