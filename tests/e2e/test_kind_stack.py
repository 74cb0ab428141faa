"""End to end: `pulumi up` of the dev (kind) stack, the API answers, `pulumi destroy`.

Needs the Pulumi CLI, Docker and kind on PATH, and ~16 GB RAM; runs only with
`pytest --e2e tests/e2e`. State lives in a temporary local file backend.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import tempfile
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def _api_version(kubeconfig: str) -> dict[str, str]:
    """GET /version of the API server with the kubeconfig's client certificate."""
    document = yaml.safe_load(kubeconfig)
    cluster = document["clusters"][0]["cluster"]
    user = document["users"][0]["user"]
    with tempfile.TemporaryDirectory() as tmp:
        ca, cert, key = (Path(tmp) / n for n in ("ca.crt", "client.crt", "client.key"))
        ca.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
        cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
        key.write_bytes(base64.b64decode(user["client-key-data"]))
        context = ssl.create_default_context(cafile=str(ca))
        context.load_cert_chain(str(cert), str(key))
        with urllib.request.urlopen(f"{cluster['server']}/version", context=context) as reply:
            return json.loads(reply.read())


@pytest.fixture
def kind_stack(tmp_path: Path) -> Iterator[object]:
    from pulumi import automation as auto

    for tool in ("pulumi", "docker", "kind"):
        if shutil.which(tool) is None:
            pytest.fail(f"--e2e needs {tool} on PATH")
    backend = tmp_path / "state"
    backend.mkdir()
    env = {
        "PULUMI_BACKEND_URL": f"file://{backend}",
        "PULUMI_CONFIG_PASSPHRASE": "kfstack-e2e",
    }
    name = f"e2e-{uuid.uuid4().hex[:6]}"
    stack = auto.create_stack(
        stack_name=name,
        work_dir=str(REPO),
        opts=auto.LocalWorkspaceOptions(env_vars=env),
    )
    dev = yaml.safe_load((REPO / "stacks" / "Pulumi.dev.yaml").read_text())["config"]
    cluster = {**dev["kfstack:cluster"], "name": f"kfstack-{name}"}
    stack.set_config("kfstack:cluster", auto.ConfigValue(json.dumps(cluster)))
    kubeflow = dict(dev["kfstack:kubeflow"])
    if os.environ.get("KFSTACK_E2E_MANIFESTS"):
        kubeflow["source"] = {"path": os.environ["KFSTACK_E2E_MANIFESTS"]}
    stack.set_config("kfstack:kubeflow", auto.ConfigValue(json.dumps(kubeflow)))
    try:
        yield stack
    finally:
        stack.destroy(on_output=print)
        stack.workspace.remove_stack(name)


def test_dev_stack_up_answers_and_destroys(kind_stack: object) -> None:
    result = kind_stack.up(on_output=print)  # type: ignore[attr-defined]
    outputs = result.outputs
    assert outputs["clusterKind"].value == "kind"
    kubeconfig = outputs["kubeconfig"]
    assert kubeconfig.secret
    version = _api_version(kubeconfig.value)
    assert version["gitVersion"].startswith("v1.34")
    # A second `pulumi up` of the same inputs changes nothing (determinism).
    again = kind_stack.preview()  # type: ignore[attr-defined]
    changes = {k: v for k, v in again.change_summary.items() if k != "same"}
    assert not changes, changes
