"""Pods whose code runs for real in the engine tier, started from the host as a kubelet would.

Under kwok no container runs. Where a test needs a pod's own code to run (the pipeline's
train step, a training job's workers), `start_pod` runs its command on the host, inside the
control plane's network namespace (the API server is 127.0.0.1:6443 there) and a mount
namespace of its own. Its root is the host's, bind-mounted (nothing is written to the host's
root), plus what a kubelet gives a container:

- a service account: a real token of the pod's account (TokenRequest, `kubectl create
  token`), the cluster's CA and the namespace at `/var/run/secrets/kubernetes.io/
  serviceaccount`, and `KUBERNETES_SERVICE_HOST`/`PORT`, as `load_incluster_config` reads them;
- `/etc/hosts` with the cluster DNS names the pod uses (Services stand at 127.0.0.1);
- volumes: host folders at container paths (KFP's launcher's `/minio`);
- the pod's name as `HOSTNAME`, and only the environment the pod spec gives.

What is not a container: the code is the checkout's (its `.venv`), not the component image's
(`tests/image` runs the steps in the image), and every pod shares the one network namespace.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.engine.harness import REPO, ControlPlane

ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
API_SERVER = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "6443"}
#: The environment every container starts with (the checkout's Python first on PATH).
BASE_ENV = {
    "PATH": f"{REPO / '.venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "PYTHONUNBUFFERED": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
}

#: What `ip netns exec` and `unshare` need to be found.
HOST_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}

# Build the pod's root in a tmpfs: every top-level entry of the host's bind-mounted (or its
# symlink copied), /run fresh, then the account, hosts file and volumes mounted; chroot.
_SCRIPT = """set -eu
root={root}
mount -t tmpfs kfstack-pod "$root"
for entry in /*; do
  name=${{entry#/}}
  [ "$name" = run ] && continue
  if [ -L "$entry" ]; then ln -s "$(readlink "$entry")" "$root/$name"
  elif [ -d "$entry" ]; then mkdir "$root/$name" && mount --rbind "$entry" "$root/$name"
  fi
done
mkdir "$root/run"
run=$(readlink -f /var/run)
if [ "$run" != /run ]; then mount -t tmpfs kfstack-pod-run "$root/var/run"; fi
{setup}
exec chroot "$root" env -i --chdir={cwd} {env} "$@"
"""


@dataclass(frozen=True)
class Pod:
    """What a kubelet would give one container: its name, account, names, volumes, env."""

    name: str
    namespace: str
    env: Mapping[str, str] = field(default_factory=dict)
    account: Path | None = None  # a folder with token, ca.crt, namespace
    hosts: Mapping[str, str] = field(default_factory=dict)  # DNS name -> address
    volumes: Mapping[Path, str] = field(default_factory=dict)  # host folder -> container path


def account_folder(
    plane: ControlPlane, env: Mapping[str, str], namespace: str, account: str
) -> Path:
    """Write a token of `account` (TokenRequest), the cluster's CA and the namespace."""
    result = plane.kubectl("create", "token", account, "-n", namespace, "--duration=2h", env=env)
    if result.returncode != 0:
        raise RuntimeError(f"kubectl create token {account}: {result.stderr}")
    folder = plane.state / "accounts" / f"{namespace}-{account}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "token").write_text(result.stdout.strip(), encoding="utf-8")
    (folder / "ca.crt").write_bytes((plane.state / "pki" / "ca.crt").read_bytes())
    (folder / "namespace").write_text(namespace, encoding="utf-8")
    return folder


def pod_script(pod: Pod, root: Path, cwd: Path) -> str:
    """The shell script that builds the pod's root under `root` and runs its command in it."""
    setup: list[str] = []
    if pod.account is not None:
        inside = '"$root$run/secrets/kubernetes.io/serviceaccount"'
        setup += [f"mkdir -p {inside}", f"cp {shlex.quote(str(pod.account))}/* {inside}/"]
    if pod.hosts:
        lines = ["127.0.0.1 localhost", *(f"{ip} {name}" for name, ip in pod.hosts.items())]
        hosts = root.with_name(root.name + ".hosts")
        hosts.write_text("\n".join(lines) + "\n", encoding="utf-8")
        setup.append(f'mount --bind {shlex.quote(str(hosts))} "$root/etc/hosts"')
    for source, target in pod.volumes.items():
        inside, host = shlex.quote(target), shlex.quote(str(source))
        setup += [f'mkdir -p "$root"{inside}', f'mount --bind {host} "$root"{inside}']
    env = {**BASE_ENV, **API_SERVER, "HOSTNAME": pod.name, **pod.env}
    return _SCRIPT.format(
        root=shlex.quote(str(root)),
        setup="\n".join(setup),
        env=" ".join(shlex.quote(f"{k}={v}") for k, v in env.items()),
        cwd=shlex.quote(str(cwd)),
    )


def start_pod(
    plane: ControlPlane, pod: Pod, argv: Sequence[str], *, scratch: Path, log: Path
) -> subprocess.Popen[bytes]:
    """Start `argv` as the pod's container; its stdout and stderr go to `log`."""
    root = scratch / f"root-{pod.name}"
    root.mkdir(parents=True, exist_ok=True)
    script = pod_script(pod, root, cwd=scratch)
    command = ["ip", "netns", "exec", plane.netns, "unshare", "--mount", "--propagation"]
    command += ["private", "sh", "-c", script, pod.name, *argv]
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=HOST_ENV)
