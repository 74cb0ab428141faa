"""Any existing cluster given by kubeconfig (path or content) and context.

Covers minikube, Rancher, on-prem and clusters made elsewhere. Nothing is created
but the provider; the cluster's facts come from stack config.
"""

from __future__ import annotations

import re
from pathlib import Path

import pulumi

from infra.cluster.base import ClusterFacts, ClusterHandle, k8s_provider, server_of_kubeconfig
from infra.config_model import ClusterConfig
from infra.safe_yaml import UnsafeDocumentError, load_one


class KubeconfigError(ValueError):
    """The kubeconfig of an existing cluster cannot be used."""


# A value shown in a "file not found" error: it looks like a path, not like a token.
_PATH_LIKE = re.compile(r"(~|\.{0,2}/)?[\w.+@-]*(/[\w.+@-]+)+/?|[\w.+@-]+\.(ya?ml|json|conf)")


def looks_like_content(value: str) -> bool:
    """A kubeconfig given inline (YAML/JSON) rather than as a path."""
    stripped = value.lstrip()
    return "\n" in value or stripped.startswith(("{", "apiVersion"))


def read_kubeconfig(value: str, *, context: str | None, base: Path) -> str:
    """Return the kubeconfig content, checking that it parses and has the context.

    Raises:
        KubeconfigError: missing file, unparsable content or unknown context,
            naming `kfstack:cluster.kubeconfig` / `.context`.

    """
    if looks_like_content(value):
        content = value
    else:
        path = Path(value).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            # A value that is neither a path nor content may be a credential: not shown.
            shown = str(path) if _PATH_LIKE.fullmatch(value) else "(value not shown)"
            raise KubeconfigError(f"kfstack:cluster.kubeconfig: file not found: {shown}")
        content = path.read_text(encoding="utf-8")
    try:
        document = load_one(content, source="kfstack:cluster.kubeconfig", secret=True)
    except UnsafeDocumentError as exc:
        raise KubeconfigError(str(exc)) from None
    if not isinstance(document, dict) or document.get("kind", "Config") != "Config":
        raise KubeconfigError("kfstack:cluster.kubeconfig: not a kubeconfig (kind: Config)")
    contexts = [c.get("name") for c in document.get("contexts") or [] if isinstance(c, dict)]
    wanted = context or document.get("current-context")
    if wanted not in contexts:
        raise KubeconfigError(
            f"kfstack:cluster.context: {wanted!r} is not in the kubeconfig; "
            f"its contexts: {', '.join(map(str, contexts)) or '(none)'}"
        )
    return content


def provision(
    cluster: ClusterConfig, *, name: str, parent: pulumi.Resource, base: Path
) -> ClusterHandle:
    """Adopt an existing cluster: a provider from its kubeconfig."""
    content = read_kubeconfig(cluster.kubeconfig or "", context=cluster.context, base=base)
    kubeconfig = pulumi.Output.secret(content)
    provider = k8s_provider(
        "existing",
        kubeconfig=kubeconfig,
        parent=parent,
        adopt_existing=cluster.adopt_existing,
        context=cluster.context,
    )
    facts = ClusterFacts(
        kind="existing",
        name=name,
        kubernetes_version=cluster.kubernetes_version,
        can_provision_load_balancers=cluster.can_provision_load_balancers,
        can_provision_storage=cluster.can_provision_storage,
    )
    endpoint = pulumi.Output.from_input(server_of_kubeconfig(content, context=cluster.context))
    return ClusterHandle(provider=provider, facts=facts, kubeconfig=kubeconfig, endpoint=endpoint)
