"""The rules of the Pod Security Standards, over one pod part (a pod spec or a container).

Pure rules: `baseline(part)` and `restricted(part)` yield the problems of a `PodPart`
(see `pod_shapes.py`); `pod_security.py` finds the parts, applies the allow list and
turns problems into findings. Every field is read defensively: a custom resource has no
schema validation, so a `securityContext` may be a string and `privileged` may be "true".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from infra.kubeflow.checks.pod_shapes import (
    CONTAINER_LISTS,
    PodPart,
    as_mapping,
    is_false,
    is_true,
)

__all__ = ["baseline", "capability_name", "restricted"]

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


def _items(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for field in CONTAINER_LISTS:
        for container in _items(spec.get(field)):
            if isinstance(container, Mapping):
                yield container


def _who(container: Mapping[str, Any]) -> str:
    return f"container {container.get('name', '?')}"


def _profile_problems(who: str, context: Mapping[str, Any]) -> Iterator[str]:
    if as_mapping(context.get("seccompProfile")).get("type") == "Unconfined":
        yield f"{who}: seccompProfile Unconfined"
    if as_mapping(context.get("appArmorProfile")).get("type") == "Unconfined":
        yield f"{who}: appArmorProfile Unconfined"
    selinux = as_mapping(context.get("seLinuxOptions"))
    if str(selinux.get("type") or "") not in _SELINUX_TYPES:
        yield f"{who}: seLinuxOptions.type {selinux.get('type')!r}"
    for field in ("user", "role"):
        if selinux.get(field):
            yield f"{who}: seLinuxOptions.{field} is set"
    if is_true(as_mapping(context.get("windowsOptions")).get("hostProcess")):
        yield f"{who}: windowsOptions.hostProcess"


def _pod_baseline(spec: Mapping[str, Any]) -> Iterator[str]:
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if is_true(spec.get(field)):
            yield f"{field}: {spec.get(field)!r} (host namespace)"
    for volume in _items(spec.get("volumes")):
        if isinstance(volume, Mapping) and "hostPath" in volume:
            host = as_mapping(volume.get("hostPath")).get("path", "?")
            yield f"volume {volume.get('name', '?')} is a hostPath ({host})"
    context = as_mapping(spec.get("securityContext"))
    for sysctl in _items(context.get("sysctls")):
        if str(as_mapping(sysctl).get("name")) not in _SAFE_SYSCTLS:
            yield f"the pod sets the unsafe sysctl {as_mapping(sysctl).get('name')!r}"
    yield from _profile_problems("the pod", context)
    for container in _containers(spec):
        yield from _container_baseline(container)


def _container_baseline(container: Mapping[str, Any]) -> Iterator[str]:
    who = _who(container)
    context = as_mapping(container.get("securityContext"))
    if is_true(context.get("privileged")):
        yield f"{who} is privileged ({context.get('privileged')!r})"
    capabilities = as_mapping(context.get("capabilities"))
    added = {capability_name(c) for c in _items(capabilities.get("add"))}
    for capability in sorted(added - _BASELINE_CAPABILITIES):
        yield f"{who} adds capability {capability}"
    if context.get("procMount") not in (None, "Default"):
        yield f"{who} sets procMount {context.get('procMount')}"
    for port in _items(container.get("ports")):
        if isinstance(port, Mapping) and port.get("hostPort") not in (None, 0, "0", ""):
            yield f"{who} binds hostPort {port.get('hostPort')}"
    yield from _profile_problems(who, context)


def baseline(part: PodPart) -> Iterator[str]:
    """Yield the baseline problems of a pod part."""
    if part.role == "pod":
        yield from _pod_baseline(part.node)
    else:
        yield from _container_baseline(part.node)


def _pod_restricted(spec: Mapping[str, Any]) -> Iterator[str]:
    for volume in _items(spec.get("volumes")):
        kinds = set(volume) - {"name"} if isinstance(volume, Mapping) else set()
        for kind in sorted(kinds - _RESTRICTED_VOLUMES):
            yield f"volume {volume.get('name', '?')} has type {kind}"
    pod = as_mapping(spec.get("securityContext"))
    pod_non_root = is_true(pod.get("runAsNonRoot"))
    pod_seccomp = as_mapping(pod.get("seccompProfile")).get("type") in (
        "RuntimeDefault",
        "Localhost",
    )
    if pod.get("runAsUser") in (0, "0"):
        yield "the pod runs as user 0"
    for container in _containers(spec):
        yield from _container_restricted(container, pod_non_root, pod_seccomp, lone=False)


def _container_restricted(
    container: Mapping[str, Any], pod_non_root: bool, pod_seccomp: bool, *, lone: bool
) -> Iterator[str]:
    """The restricted rules of a container; `lone`: its pod-level fields are not in view.

    A lone container (a predictor's model, a workflow step) gets its pod's security context
    from elsewhere, so only what it sets itself is judged, never what it leaves out.
    """
    who = _who(container)
    context = as_mapping(container.get("securityContext"))
    escalation = context.get("allowPrivilegeEscalation")
    if is_true(escalation) or (not lone and not is_false(escalation)):
        yield f"{who} does not set allowPrivilegeEscalation: false"
    non_root = context.get("runAsNonRoot")
    if is_false(non_root) or (not lone and non_root is None and not pod_non_root):
        yield f"{who} does not set runAsNonRoot: true"
    if context.get("runAsUser") in (0, "0"):
        yield f"{who} runs as user 0"
    seccomp = as_mapping(context.get("seccompProfile")).get("type")
    if not lone and seccomp is None and not pod_seccomp:
        yield f"{who} has no RuntimeDefault/Localhost seccompProfile"
    capabilities = as_mapping(context.get("capabilities"))
    dropped = {capability_name(c) for c in _items(capabilities.get("drop"))}
    if not lone and "ALL" not in dropped:
        yield f"{who} does not drop ALL capabilities"
    added = {capability_name(c) for c in _items(capabilities.get("add"))}
    for capability in sorted(added - {"NET_BIND_SERVICE"}):
        yield f"{who} adds capability {capability} (restricted)"


def restricted(part: PodPart) -> Iterator[str]:
    """Yield the restricted problems of a pod part (on top of `baseline`)."""
    if part.role == "pod":
        yield from _pod_restricted(part.node)
    else:
        yield from _container_restricted(part.node, False, False, lone=True)
