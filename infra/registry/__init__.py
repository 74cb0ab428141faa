"""Register trained models in the Kubeflow Model Registry, as Pulumi resources.

Quick start::

    entry = ModelRegistryEntry(
        "iris",
        ModelRegistryEntryArgs.from_release(
            load_release("release.json"),
            connection=RegistryConnectionArgs(kubeconfig=cluster.kubeconfig),
        ),
    )
"""

from infra.registry.client import RegistryClient, RegistryError
from infra.registry.entry import EntryConflictError, EntryIds, EntrySpec
from infra.registry.kubeconfig import KubeconfigError, RegistryEndpoint, service_proxy_url
from infra.registry.provider import (
    ModelRegistryEntry,
    ModelRegistryEntryArgs,
    ModelRegistryProvider,
    RegistryConnectionArgs,
)

__all__ = [
    "EntryConflictError",
    "EntryIds",
    "EntrySpec",
    "KubeconfigError",
    "ModelRegistryEntry",
    "ModelRegistryEntryArgs",
    "ModelRegistryProvider",
    "RegistryClient",
    "RegistryConnectionArgs",
    "RegistryEndpoint",
    "RegistryError",
    "service_proxy_url",
]
