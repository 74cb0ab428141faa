"""Run pipeline steps inside the image `make image` built, with buildah: as the image's
non-root user, with no network, one fresh container per step (as a pod per task).

The image is built with chroot isolation, but a chroot-isolated `buildah run` shares the
host's network ("cannot set --network other than host with --isolation chroot"): the steps
run under the OCI runtime runc (`--isolation oci --network none`: a network namespace with
only `lo`). crun refuses this machine's hybrid cgroups; runc does not.

The object store is a directory standing for bucket `mlpipeline`, mounted where the
launcher would download inputs and upload outputs (`/minio/mlpipeline`, `/s3/mlpipeline`):
what one step writes there, the next reads, as through the store.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.image.launcher import Finished, Step, local_path

#: `scripts/build-image` writes what it built here (see its header).
CACHE = Path(
    os.environ.get("KFSTACK_IMAGE_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kfstack" / "image"
)
RECORD = CACHE / "image.json"
#: The image's user (Dockerfile `USER`).
IMAGE_UID = 10001
BUCKET = "mlpipeline"
STEP_TIMEOUT_S = 3600


class StepFailedError(RuntimeError):
    """A step exited non-zero in the image; the message ends with its log."""


@dataclass(frozen=True)
class BuiltImage:
    """The image `scripts/build-image` recorded (image.json)."""

    reference: str
    digest: str
    stand_in: bool
    base: str
    oci_layout: Path
    storage_root: Path
    run_root: Path

    @classmethod
    def read(cls, record: Path = RECORD) -> BuiltImage:
        """The recorded image (KeyError, OSError or ValueError when there is none)."""
        data: dict[str, Any] = json.loads(record.read_text(encoding="utf-8"))
        return cls(
            reference=data["reference"],
            digest=data["digest"],
            stand_in=bool(data["stand_in"]),
            base=data["base"],
            oci_layout=Path(data["oci_layout"]),
            storage_root=Path(data["storage_root"]),
            run_root=Path(data["run_root"]),
        )

    def buildah(self, *args: str) -> list[str]:
        """A buildah command line on the image's own store."""
        return ["buildah", "--root", str(self.storage_root), "--runroot", str(self.run_root), *args]

    def exists(self) -> bool:
        """Whether the store still holds the image."""
        done = subprocess.run(
            self.buildah("inspect", "--type", "image", self.reference),
            capture_output=True,
            check=False,
        )
        return done.returncode == 0


def _writable_by_image_user(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, IMAGE_UID, 0)
    path.chmod(0o775)
    return path


@dataclass(frozen=True)
class StepRunner:
    """Runs a `Step` in the image: `buildah run --network none` under runc as uid 10001,
    the bucket directory mounted, the launcher's output files collected."""

    image: BuiltImage
    bucket: Path
    work: Path

    def run(self, name: str, argv: tuple[str, ...], mounts: dict[Path, str]) -> str:
        """Run `argv` in a fresh container of the image; return its output (stdout+stderr)."""
        volumes = {self.bucket: f"/minio/{BUCKET}", **mounts}
        container = subprocess.run(
            self.image.buildah(
                "from",
                "--quiet",
                "--name",
                f"kfstack-{name}-{uuid.uuid4().hex[:8]}",
                self.image.reference,
            ),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        try:
            flags = [f"--volume={host}:{inside}" for host, inside in volumes.items()]
            flags.append(f"--volume={self.bucket}:/s3/{BUCKET}")
            done = subprocess.run(
                self.image.buildah(
                    "run",
                    "--runtime",
                    "runc",
                    "--isolation",
                    "oci",
                    "--network",
                    "none",
                    "--user",
                    f"{IMAGE_UID}:0",
                    *flags,
                    container,
                    "--",
                    *argv,
                ),
                capture_output=True,
                text=True,
                check=False,
                timeout=STEP_TIMEOUT_S,
            )
        finally:
            subprocess.run(self.image.buildah("rm", container), capture_output=True, check=False)
        log = done.stdout + done.stderr
        if done.returncode != 0:
            raise StepFailedError(f"{name} exited {done.returncode} in the image:\n{log[-4000:]}")
        return log

    def __call__(self, step: Step) -> Finished:
        """Run one pipeline step as the launcher would and return what it left."""
        here = self.work / step.task
        if here.exists():
            shutil.rmtree(here)
        kfp = _writable_by_image_user(here / "kfp")
        _writable_by_image_user(kfp / "outputs")
        metadata = _writable_by_image_user(here / "kfp_outputs")
        for found in step.executor_input["outputs"].get("artifacts", {}).values():
            self._prepare(local_path(found["artifacts"][0]["uri"]))
        log = self.run(step.task, step.argv, {kfp: "/tmp/kfp", metadata: "/tmp/kfp_outputs"})
        (here / "log.txt").write_text(log, encoding="utf-8")
        output_file = metadata / "output_metadata.json"
        output = json.loads(output_file.read_text()) if output_file.is_file() else {}
        files = {p.name: p.read_text(encoding="utf-8") for p in (kfp / "outputs").iterdir()}
        return Finished(output, files)

    def _prepare(self, inside: str) -> None:
        """The parent folders of an output, made as the launcher does (`prepareOutputFolders`)."""
        for mount in (f"/minio/{BUCKET}/", f"/s3/{BUCKET}/"):
            if inside.startswith(mount):
                folder = self.bucket
                for part in Path(inside[len(mount) :]).parent.parts:
                    folder = _writable_by_image_user(folder / part)
                return
        raise ValueError(f"{inside}: not in bucket {BUCKET}")


def bucket_dir(root: Path) -> Path:
    """A fresh directory standing for the bucket, writable by the image's user."""
    return _writable_by_image_user(root / BUCKET)
