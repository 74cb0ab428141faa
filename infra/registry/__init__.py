"""The Kubeflow Model Registry, reached from the stack: a REST client and what it registers.

The package front is the pure side: the REST client, the entry a model version becomes,
and how the registry is reached. The Pulumi dynamic provider that registers an entry is
imported from its own module by the component that registers it
(`infra.registry.provider`, used by `infra/components/serving.py`).

Quick start::

    client = RegistryClient("http://localhost:8080/api/model_registry/v1alpha3")
    model = client.find_registered_model("iris")
"""

from infra.registry.client import RegistryClient, RegistryError
from infra.registry.entry import EntryConflictError, EntryIds, EntrySpec
from infra.registry.kubeconfig import KubeconfigError, RegistryEndpoint, service_proxy_url

__all__ = [
    "EntryConflictError",
    "EntryIds",
    "EntrySpec",
    "KubeconfigError",
    "RegistryClient",
    "RegistryEndpoint",
    "RegistryError",
    "service_proxy_url",
]
