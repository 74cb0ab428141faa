"""Fake controllers for the engine tier: what kwok does for kubelets, done here for the rest.

Under kwok no controller of the release runs, so cert-manager never issues a Certificate and
its cainjector never fills a webhook's caBundle: the plan's readiness waits on them
(`pulumi.com/waitFor`) would never resolve. `FakeCertManager` plays both roles from the
outside with kubectl, as the real ones would: for each Certificate it writes the TLS Secret
and sets `Ready=True`; for each webhook configuration or CRD that asks for an injected CA it
sets `caBundle`. The plan's waits stay as they are and are resolved for real by the provider.

`FakeProfiles` plays Kubeflow's profile controller: each Profile gets its namespace, owned by
the Profile, so the garbage collector deletes the namespace with it (serving writes into a
profile's namespace; the first real run waited for it forever). It also plays the pipelines
profile controller (metacontroller calling the release's real `sync.py`, through
`tests/profile_controller.py`): the namespace gets the object store Secret and
`kfp-launcher` ConfigMap that serving reads. And it gives the namespace what the profile
controller's reconcile loop gives every profile (kubeflow/dashboard,
`components/profile-controller/controllers/profile_controller.go`): the service accounts
`default-editor` and `default-viewer`, bound to the ClusterRoles `kubeflow-edit` and
`kubeflow-view`, and the owner bound to `kubeflow-admin` (`namespaceAdmin`). Pipeline steps
run as `default-editor`, so what it may do is what the release's aggregated roles allow.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.engine.harness import ControlPlane
from tests.profile_controller import profile_grant

INJECT = ("cert-manager.io/inject-ca-from", "cert-manager.io/inject-ca-from-secret")


def certificate_actions(certificates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the not-yet-Ready Certificates (namespace, name, secretName) to issue."""
    out = []
    for cert in certificates:
        conditions = (cert.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            continue
        meta = cert["metadata"]
        out.append(
            {
                "namespace": meta.get("namespace", "default"),
                "name": meta["name"],
                "secret": (cert.get("spec") or {}).get("secretName") or meta["name"],
            }
        )
    return out


def ca_patches(objects: list[dict[str, Any]], ca: str) -> list[tuple[str, str, list[Any]]]:
    """Return (kind, name, json-patch) setting caBundle where cert-manager would inject it."""
    patches = []
    for obj in objects:
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if not any(a in annotations for a in INJECT):
            continue
        kind, name = obj["kind"], obj["metadata"]["name"]
        if kind == "CustomResourceDefinition":
            conversion = (obj.get("spec") or {}).get("conversion") or {}
            webhook = conversion.get("webhook") or {}
            if conversion.get("strategy") == "Webhook" and not (
                webhook.get("clientConfig") or {}
            ).get("caBundle"):
                path = "/spec/conversion/webhook/clientConfig/caBundle"
                patches.append((kind, name, [{"op": "add", "path": path, "value": ca}]))
            continue
        ops = [
            {"op": "add", "path": f"/webhooks/{i}/clientConfig/caBundle", "value": ca}
            for i, hook in enumerate(obj.get("webhooks") or [])
            if not (hook.get("clientConfig") or {}).get("caBundle")
        ]
        if ops:
            patches.append((kind, name, ops))
    return patches


def profile_namespaces(
    profiles: list[dict[str, Any]], namespaces: set[str]
) -> list[dict[str, Any]]:
    """Return the Namespace manifests the profile controller would create, owned by the Profile."""
    out = []
    for profile in profiles:
        meta = profile["metadata"]
        if meta["name"] in namespaces or meta.get("deletionTimestamp"):
            continue
        owner = ((profile.get("spec") or {}).get("owner") or {}).get("name", "")
        reference = {
            "apiVersion": profile["apiVersion"],
            "kind": "Profile",
            "name": meta["name"],
            "uid": meta["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": meta["name"],
                    "annotations": {"owner": owner},
                    "labels": {"app.kubernetes.io/part-of": "kubeflow-profile"},
                    "ownerReferences": [reference],
                },
            }
        )
    return out


#: (service account or None for the owner, RoleBinding name, ClusterRole) the profile
#: controller binds in every profile namespace.
PROFILE_BINDINGS = (
    (None, "namespaceAdmin", "kubeflow-admin"),
    ("default-editor", "default-editor", "kubeflow-edit"),
    ("default-viewer", "default-viewer", "kubeflow-view"),
)


def profile_access(profile: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ServiceAccounts and RoleBindings the profile controller makes for a profile."""
    namespace = profile["metadata"]["name"]
    owner = dict((profile.get("spec") or {}).get("owner") or {})
    out: list[dict[str, Any]] = []
    for account, binding, role in PROFILE_BINDINGS:
        meta = {"name": binding, "namespace": namespace}
        if account is None:
            subject = {"apiGroup": "rbac.authorization.k8s.io", **owner}
            meta["annotations"] = {"user": str(owner.get("name", "")), "role": "admin"}
        else:
            subject = {"kind": "ServiceAccount", "name": account, "namespace": namespace}
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": {"name": account, "namespace": namespace},
                }
            )
        out.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": meta,
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": role,
                },
                "subjects": [subject],
            }
        )
    return out


class FakeController:
    """A reconcile loop run from outside the control plane with kubectl."""

    def __init__(self, plane: ControlPlane, env: Mapping[str, str], interval: float = 2.0):
        self.plane, self.env, self.interval = plane, dict(env), interval
        self._stop = threading.Event()

    def _list(self, kinds: str) -> list[dict[str, Any]]:
        result = self.plane.kubectl("get", kinds, "-A", "-o", "json", env=self.env)
        if result.returncode != 0:
            return []  # the CRD is not installed yet
        items: list[dict[str, Any]] = json.loads(result.stdout).get("items", [])
        return items

    def step(self) -> None:
        """One reconcile pass."""
        raise NotImplementedError

    def run(self) -> None:
        """Reconcile until stopped."""
        while not self._stop.is_set():
            # As a real controller: retry after an API error (a restarting server).
            with contextlib.suppress(RuntimeError, ValueError):
                self.step()
            self._stop.wait(self.interval)

    def stop(self) -> None:
        """Ask the loop to end after its current pass."""
        self._stop.set()


class FakeProfiles(FakeController):
    """Create each Profile's namespace, as Kubeflow's profile controller does."""

    def __init__(self, plane: ControlPlane, env: Mapping[str, str], interval: float = 2.0):
        super().__init__(plane, env, interval)
        self.created = 0
        self.synced: set[str] = set()
        self.release = "26.03"  # the release the engine tier installs

    def step(self) -> None:
        """One pass: a namespace for each Profile that has none, then its pipelines objects."""
        existing = {ns["metadata"]["name"] for ns in self._list("namespaces")}
        profiles = self._list("profiles.kubeflow.org")
        for namespace in profile_namespaces(profiles, existing):
            result = self.plane.exec(
                ["kubectl", "create", "-f", "-"], env=self.env, input=json.dumps(namespace)
            )
            self.created += result.returncode == 0
        for profile in profiles:
            self._sync(profile)

    def _sync(self, profile: Mapping[str, Any]) -> None:
        """The profile's access and the pipelines controller's objects, once per namespace."""
        namespace = profile["metadata"]["name"]
        if namespace in self.synced:
            return
        grant = profile_grant(self.release, namespace).as_kubectl_list()
        grant["items"] = [*profile_access(profile), *grant["items"]]
        result = self.plane.exec(
            ["kubectl", "apply", "--server-side", "--field-manager=fake-profiles", "-f", "-"],
            env=self.env,
            input=json.dumps(grant),
        )
        if result.returncode == 0:
            self.synced.add(namespace)


class FakeCertManager(FakeController):
    """Issue Certificates and inject CA bundles in a control plane, every `interval` seconds."""

    def __init__(self, plane: ControlPlane, env: Mapping[str, str], interval: float = 2.0):
        super().__init__(plane, env, interval)
        pki = plane.state / "pki"
        self.ca = (pki / "ca.crt").read_bytes()
        self.crt = (pki / "apiserver.crt").read_bytes()
        self.key = (pki / "apiserver.key").read_bytes()
        self.issued = 0
        self.injected = 0

    def step(self) -> None:
        """One reconcile pass over Certificates, webhook configurations and CRDs."""
        for cert in certificate_actions(self._list("certificates.cert-manager.io")):
            self._issue(cert)
        ca = base64.b64encode(self.ca).decode()
        kinds = "mutatingwebhookconfigurations,validatingwebhookconfigurations,crd"
        for kind, name, patch in ca_patches(self._list(kinds), ca):
            resource = "crd" if kind == "CustomResourceDefinition" else kind.lower()
            result = self.plane.kubectl(
                "patch", resource, name, "--type=json", "-p", json.dumps(patch), env=self.env
            )
            self.injected += result.returncode == 0

    def _issue(self, cert: Mapping[str, str]) -> None:
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": {"name": cert["secret"], "namespace": cert["namespace"]},
            "data": {
                "tls.crt": base64.b64encode(self.crt).decode(),
                "tls.key": base64.b64encode(self.key).decode(),
                "ca.crt": base64.b64encode(self.ca).decode(),
            },
        }
        self.plane.exec(
            ["kubectl", "apply", "--server-side", "--field-manager=fake-cert-manager", "-f", "-"],
            env=self.env,
            input=json.dumps(secret),
        )
        status = {
            "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Issued"}]}
        }
        result = self.plane.kubectl(
            "patch",
            "certificates.cert-manager.io",
            cert["name"],
            "-n",
            cert["namespace"],
            "--subresource=status",
            "--type=merge",
            "-p",
            json.dumps(status),
            env=self.env,
        )
        self.issued += result.returncode == 0


@dataclass(frozen=True)
class FakeControllers:
    """The fakes running for one block."""

    cert_manager: FakeCertManager
    profiles: FakeProfiles

    def summary(self) -> str:
        """What the fakes did, for the test log."""
        return (
            f"fake cert-manager: {self.cert_manager.issued} issued, "
            f"{self.cert_manager.injected} injected; "
            f"fake profile controller: {self.profiles.created} namespaces"
        )


@contextmanager
def fake_controllers(plane: ControlPlane, env: Mapping[str, str]) -> Iterator[FakeControllers]:
    """Run the fake cert-manager and profile controller in background threads for the block."""
    fakes = FakeControllers(FakeCertManager(plane, env), FakeProfiles(plane, env))
    loops = (fakes.cert_manager, fakes.profiles)
    threads = [threading.Thread(target=loop.run, daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    try:
        yield fakes
    finally:
        for loop in loops:
            loop.stop()
        for thread in threads:
            thread.join(timeout=60)
