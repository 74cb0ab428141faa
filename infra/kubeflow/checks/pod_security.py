"""Pod Security Standards over every pod spec of every object, custom resources included.

Rule ``policy.pod-security`` (error): the ``baseline`` level of the Kubernetes Pod Security
Standards (or ``restricted``, opt-in), checked on every pod-spec-like mapping found by
shape anywhere in an object: a mapping with a ``containers`` (or ``initContainers``,
``ephemeralContainers``) list of mappings. That covers Pods, workload templates, and
custom resources that carry pod specs (ServingRuntimes, Knative Services, Notebooks ...)
without a list of kinds an attacker could step around. Capability names are compared as
the container runtime grants them: upper case, without a ``CAP_`` prefix.

Rule ``policy.allow-list`` (error): an ``allowPrivileged`` entry that is not
``Kind/namespace/name`` or that matches no object of the plan. A plain ``Kind`` names a
built-in workload kind (core, apps, batch); a custom resource is ``Kind.group``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, get_args

from infra.kubeflow.allow import BUILTIN_GROUPS, AllowEntry, parse_allow_entry
from infra.kubeflow.objects import Finding, Manifest, ObjectKey
from infra.kubeflow.settings import PodSecurityLevel

if TYPE_CHECKING:
    from infra.kubeflow.settings import KubeflowSettings

__all__ = ["LEVELS", "AllowEntry", "check", "check_pod_security", "parse_allow_entry", "pod_specs"]

Level = PodSecurityLevel
LEVELS: tuple[Level, ...] = get_args(Level)

_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
# Capabilities the baseline level lets a container add (Pod Security Standards, v1.34).
_BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
_SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
_SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
_RESTRICTED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)


def capability_name(raw: object) -> str:
    """Return a capability as the runtime grants it: `cap_sys_admin` -> `SYS_ADMIN`."""
    name = str(raw).strip().upper()
    return name.removeprefix("CAP_")


def _is_pod_spec(node: Mapping[str, Any]) -> bool:
    for field in _CONTAINER_LISTS:
        value = node.get(field)
        if isinstance(value, list) and value and all(isinstance(c, Mapping) for c in value):
            return True
    return False


def pod_specs(node: Any, path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield (path, pod spec) of every pod-spec-like mapping anywhere in `node`."""
    if isinstance(node, Mapping):
        if _is_pod_spec(node):
            yield path or ".", node
        for key, value in node.items():
            yield from pod_specs(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from pod_specs(value, f"{path}[{i}]")


def _containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for field in _CONTAINER_LISTS:
        for container in spec.get(field) or ():
            if isinstance(container, Mapping):
                yield container


def _contexts(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield (who, securityContext) of the pod and of each container."""
    yield "the pod", spec.get("securityContext") or {}
    for container in _containers(spec):
        yield f"container {container.get('name', '?')}", container.get("securityContext") or {}


def _profile_problems(who: str, context: Mapping[str, Any]) -> Iterator[str]:
    seccomp = (context.get("seccompProfile") or {}).get("type")
    if seccomp == "Unconfined":
        yield f"{who}: seccompProfile Unconfined"
    if (context.get("appArmorProfile") or {}).get("type") == "Unconfined":
        yield f"{who}: appArmorProfile Unconfined"
    selinux = context.get("seLinuxOptions") or {}
    if str(selinux.get("type") or "") not in _SELINUX_TYPES:
        yield f"{who}: seLinuxOptions.type {selinux.get('type')!r}"
    for field in ("user", "role"):
        if selinux.get(field):
            yield f"{who}: seLinuxOptions.{field} is set"
    if (context.get("windowsOptions") or {}).get("hostProcess") is True:
        yield f"{who}: windowsOptions.hostProcess"


def _baseline(spec: Mapping[str, Any]) -> Iterator[str]:
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field) is True:
            yield f"{field}: true (host namespace)"
    for volume in spec.get("volumes") or ():
        if isinstance(volume, Mapping) and "hostPath" in volume:
            host = (volume.get("hostPath") or {}).get("path", "?")
            yield f"volume {volume.get('name', '?')} is a hostPath ({host})"
    for sysctl in (spec.get("securityContext") or {}).get("sysctls") or ():
        if str((sysctl or {}).get("name")) not in _SAFE_SYSCTLS:
            yield f"the pod sets the unsafe sysctl {(sysctl or {}).get('name')!r}"
    for who, context in _contexts(spec):
        yield from _profile_problems(who, context)
    for container in _containers(spec):
        yield from _container_baseline(container)


def _container_baseline(container: Mapping[str, Any]) -> Iterator[str]:
    name = container.get("name", "?")
    context = container.get("securityContext") or {}
    if context.get("privileged") is True:
        yield f"container {name} is privileged"
    added = {capability_name(c) for c in (context.get("capabilities") or {}).get("add") or ()}
    for capability in sorted(added - _BASELINE_CAPABILITIES):
        yield f"container {name} adds capability {capability}"
    if context.get("procMount") not in (None, "Default"):
        yield f"container {name} sets procMount {context.get('procMount')}"
    for port in container.get("ports") or ():
        if isinstance(port, Mapping) and port.get("hostPort") not in (None, 0):
            yield f"container {name} binds hostPort {port.get('hostPort')}"


def _restricted(spec: Mapping[str, Any]) -> Iterator[str]:
    for volume in spec.get("volumes") or ():
        kinds = set(volume) - {"name"} if isinstance(volume, Mapping) else set()
        for kind in sorted(kinds - _RESTRICTED_VOLUMES):
            yield f"volume {volume.get('name', '?')} has type {kind}"
    pod = spec.get("securityContext") or {}
    pod_non_root = pod.get("runAsNonRoot") is True
    pod_seccomp = (pod.get("seccompProfile") or {}).get("type") in ("RuntimeDefault", "Localhost")
    if pod.get("runAsUser") == 0:
        yield "the pod runs as user 0"
    for container in _containers(spec):
        yield from _container_restricted(container, pod_non_root, pod_seccomp)


def _container_restricted(
    container: Mapping[str, Any], pod_non_root: bool, pod_seccomp: bool
) -> Iterator[str]:
    name = container.get("name", "?")
    context = container.get("securityContext") or {}
    if context.get("allowPrivilegeEscalation") is not False:
        yield f"container {name} does not set allowPrivilegeEscalation: false"
    non_root = context.get("runAsNonRoot")
    if non_root is False or (non_root is None and not pod_non_root):
        yield f"container {name} does not set runAsNonRoot: true"
    if context.get("runAsUser") == 0:
        yield f"container {name} runs as user 0"
    seccomp = (context.get("seccompProfile") or {}).get("type")
    if seccomp is None and not pod_seccomp:
        yield f"container {name} has no RuntimeDefault/Localhost seccompProfile"
    capabilities = context.get("capabilities") or {}
    if "ALL" not in {capability_name(c) for c in capabilities.get("drop") or ()}:
        yield f"container {name} does not drop ALL capabilities"
    added = {capability_name(c) for c in capabilities.get("add") or ()}
    for capability in sorted(added - {"NET_BIND_SERVICE"}):
        yield f"container {name} adds capability {capability} (restricted)"


def check(manifests: Sequence[Manifest], settings: KubeflowSettings) -> list[Finding]:
    """The pod security rules at the stack's level, with its allow list."""
    return check_pod_security(
        manifests, allow_privileged=settings.allow_privileged, level=settings.pod_security
    )


def check_pod_security(
    manifests: Sequence[Manifest],
    *,
    allow_privileged: Sequence[str] = (),
    level: Level = "baseline",
) -> list[Finding]:
    """Return the pod security and allow-list findings of the final objects.

    Args:
        manifests: the final objects.
        allow_privileged: `Kind[.group]/namespace/name` of objects exempt from the checks.
        level: "baseline" (the default) or "restricted" (baseline plus hardening).

    """
    findings: list[Finding] = []
    entries: list[tuple[str, AllowEntry]] = []
    for raw in allow_privileged:
        try:
            entries.append((raw, parse_allow_entry(raw)))
        except ValueError as exc:
            findings.append(Finding("policy.allow-list", "error", None, str(exc)))
    used: set[str] = set()
    for manifest in manifests:
        key = ObjectKey.of(manifest)
        allowed = [raw for raw, entry in entries if entry.matches(key)]
        used.update(allowed)
        if allowed or key.kind == "CustomResourceDefinition":
            continue
        findings.extend(_object_findings(manifest, key, level))
    findings.extend(
        Finding(
            "policy.allow-list",
            "error",
            None,
            f"allowPrivileged entry {raw!r} matches no object of the plan; remove it "
            "(entries are Kind/namespace/name, Kind.group for a custom resource)",
        )
        for raw, _ in entries
        if raw not in used
    )
    return findings


_APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def _unconfined_apparmor(node: Any, path: str = "") -> Iterator[str]:
    """Yield the pod-template annotations that run a container AppArmor-unconfined."""
    if isinstance(node, Mapping):
        annotations = node.get("annotations")
        if isinstance(annotations, Mapping):
            for name, value in annotations.items():
                if str(name).startswith(_APPARMOR_ANNOTATION) and value == "unconfined":
                    yield f"{path or '.'}: annotation {name}: unconfined (baseline)"
        for key, value in node.items():
            yield from _unconfined_apparmor(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _unconfined_apparmor(value, f"{path}[{i}]")


def _object_findings(manifest: Manifest, key: ObjectKey, level: Level) -> Iterator[Finding]:
    kind = key.kind if key.group in BUILTIN_GROUPS else f"{key.kind}.{key.group}"
    hint = f"allow it with allowPrivileged: {kind}/{key.namespace}/{key.name}"
    if any(True for _ in pod_specs(manifest)):
        for problem in _unconfined_apparmor(manifest):
            yield Finding("policy.pod-security", "error", key, f"{problem}; {hint}")
    for path, spec in pod_specs(manifest):
        problems = list(_baseline(spec))
        if level == "restricted":
            problems += list(_restricted(spec))
        for problem in problems:
            yield Finding(
                "policy.pod-security", "error", key, f"{path}: {problem} ({level}); {hint}"
            )
