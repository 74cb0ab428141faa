"""The component image's Dockerfile and its workflow: pinned, least privilege, by digest."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "Dockerfile"
WORKFLOW = ROOT / ".github" / "workflows" / "image.yml"
USES = re.compile(r"^\s*-?\s*uses:\s*(\S+)(.*)$", re.M)


def tool(name: str) -> str | None:
    """A dev tool installed in this environment (beside the interpreter) or on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.is_file() else shutil.which(name)


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def test_dockerfile_base_is_pinned_by_digest_and_runs_as_non_root() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert base is not None
    assert re.fullmatch(r"python:3\.1[1-3][-.\w]*-slim[-\w]*@sha256:[0-9a-f]{64}", base.group(1))
    assert re.findall(r"^FROM (\S+)", text, re.M) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1] not in ("root", "0")
    # The lock's dependency set, hash-checked, and the project as a wheel without resolving.
    assert "uv export --frozen --no-default-groups --extra ml --no-emit-project" in text
    assert "--require-hashes --no-deps -r /tmp/kfstack/requirements.txt" in text
    assert re.search(r"pip install --no-cache-dir --no-deps /tmp/kfstack/kfstack-\*\.whl", text)
    assert re.search(r"uv==[0-9]+\.[0-9]+\.[0-9]+", text)


def test_the_build_ca_is_a_secret_of_the_steps_that_download_never_part_of_the_image() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    # One line per instruction: continuation lines joined, comments dropped.
    instructions = re.findall(r"^[A-Z]+ .*$", text.replace("\\\n", " "), re.M)
    mentions = [i for i in instructions if "build-ca" in i]
    # pip for uv, uv build (hatchling), pip for the lock: each mounts the secret itself.
    assert len(mentions) == 3
    for instruction in mentions:
        assert instruction.startswith("RUN --mount=type=secret,id=build-ca ")
        assert "export PIP_CERT=/run/secrets/build-ca" in instruction or (
            "export SSL_CERT_FILE=/run/secrets/build-ca" in instruction
        )
    for instruction in instructions:
        if instruction.startswith(("ENV", "ARG", "LABEL", "COPY", "ADD")):
            assert not re.search(r"CERT|CA_BUNDLE|\.crt|\.pem", instruction), instruction


def test_python_goes_into_virtual_environments_on_either_base() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    # A Debian python3 base refuses pip into the system (PEP 668); a venv works on both.
    assert text.count("python3 -m venv") == 2
    assert "PATH=/opt/kfstack/bin:$PATH" in text and "VIRTUAL_ENV=/opt/kfstack" in text
    assert "--break-system-packages" not in text


def test_dockerignore_sends_only_what_the_build_needs() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").split("\n")
    assert lines[lines.index("*") + 1 :][:6] == [
        "!pyproject.toml",
        "!uv.lock",
        "!README.md",
        "!infra/",
        "!ml/",
        "!kfstack/",
    ]


def test_every_action_is_pinned_to_a_commit_with_its_version() -> None:
    found = USES.findall(WORKFLOW.read_text(encoding="utf-8"))
    assert len(found) >= 8
    for ref, comment in found:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r"\s*# v[0-9]+\.[0-9]+\.[0-9]+", comment), (ref, comment)


def test_least_privilege_per_job(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    writers = {name for name, job in jobs.items() if "write" in job["permissions"].values()}
    assert writers == {"push"}
    assert jobs["push"]["permissions"] == {"contents": "read", "packages": "write"}
    for name, job in jobs.items():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name


def test_pull_requests_get_no_secrets_and_no_push(workflow: dict[str, Any]) -> None:
    on = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert "pull_request" in on and "pull_request_target" not in on
    pr_jobs = {
        n: j
        for n, j in workflow["jobs"].items()
        if j.get("if") == "github.event_name == 'pull_request'"
    }
    assert set(pr_jobs) == {"build"}
    assert "secrets." not in yaml.safe_dump(pr_jobs["build"])
    assert pr_jobs["build"]["steps"][-1]["with"]["push"] is False
    assert workflow["jobs"]["push"]["if"] == "github.event_name != 'pull_request'"


def test_the_pushed_digest_reaches_compile(workflow: dict[str, Any]) -> None:
    push, record = workflow["jobs"]["push"], workflow["jobs"]["record"]
    assert push["outputs"]["digest"] == "${{ steps.build.outputs.digest }}"
    step = next(s for s in record["steps"] if "IMAGE" in s.get("env", {}))
    assert step["env"]["IMAGE"] == (
        "${{ needs.push.outputs.image }}@${{ needs.push.outputs.digest }}"
    )
    assert 'kfstack pipeline compile --image "$IMAGE"' in step["run"]
    assert 'image_lock record "$IMAGE"' in step["run"]
    assert "${{" not in step["run"]  # values reach the shell through env, never inlined


@pytest.mark.skipif(tool("hadolint") is None, reason="hadolint (dev dependency) missing")
def test_hadolint_finds_nothing() -> None:
    done = subprocess.run(
        [str(tool("hadolint")), str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(tool("zizmor") is None, reason="zizmor (dev dependency) missing")
def test_zizmor_finds_nothing() -> None:
    done = subprocess.run(
        [str(tool("zizmor")), "--offline", "--quiet", str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
