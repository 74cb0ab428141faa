"""Hostile inputs: stack files, git sources, registry ids, kubeconfigs, YAML, storage URIs."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import ConfigError, parse_settings, settings_from_stack_file
from infra.config_inputs import check_git_ref, check_git_url
from infra.kubeconfig import KubeconfigError
from infra.kubeconfig import read_stack_kubeconfig as read_kubeconfig
from infra.kubeconfig import server_of as server_of_kubeconfig
from infra.kubeflow.errors import RenderError, SourceError
from infra.kubeflow.render import parse_documents, source
from infra.registry.client import RegistryClient, RegistryError
from infra.registry.kubeconfig import load_kubeconfig
from infra.registry.records import ModelArtifact, ModelVersion
from infra.safe_yaml import UnsafeDocumentError, load_json, load_one
from infra.serving.pipeline import PipelinePackageError, read_package
from ml.model_release import ReleaseError, load_release, normalise_storage_uri

TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.c2lnbmF0dXJl"
# 10 levels of 9 aliases each: 9**10 nodes (billions) from a few hundred bytes.
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9)
)


def stack_file(tmp_path: Path, config: dict[str, Any], name: str = "dev") -> Path:
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


# --- git sources --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/kubeflow/manifests.git",
        "ssh://git@github.com/kubeflow/manifests.git",
        "git@github.com:kubeflow/manifests.git",
        "https://git.example.com:8443/platform/manifests",
    ],
)
def test_https_and_ssh_git_urls_are_accepted(url: str) -> None:
    assert check_git_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "--upload-pack=touch MARKER",
        "-uhttps://x",
        "ext::sh -c touch% MARKER",
        "file:///etc",
        "http://github.com/kubeflow/manifests.git",
        "https://user:token@github.com/kubeflow/manifests.git",
        "https://github.com/kubeflow/../../etc",
        "git@github.com:-oProxyCommand=x",
        "https://github.com/a b",
    ],
)
def test_other_git_urls_are_refused_by_the_stack_config(url: str) -> None:
    with pytest.raises(ValueError, match=r"git URL|credentials"):
        check_git_url(url)
    raw = {"kfstack:kubeflow": {"source": {"git": {"url": url, "ref": "26.03"}}}}
    with pytest.raises(ConfigError, match=r"source\.git\.url"):
        parse_settings(raw, stack="dev", require_secrets=False)


@pytest.mark.parametrize("ref", ["--upload-pack=x", "-b", "a..b", "v1 ", "x.lock", ""])
def test_refs_that_are_not_plain_names_are_refused(ref: str) -> None:
    with pytest.raises(ValueError, match="git ref"):
        check_git_ref(ref)


def test_a_git_option_as_url_runs_no_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "MARKER"
    monkeypatch.chdir(tmp_path)
    url = f"--upload-pack=touch {marker}"
    with pytest.raises(SourceError, match="starts with '-'"):
        source.fetch_git(url, "26.03", cache_dir=tmp_path / "cache")
    # Even with that check switched off, git gets the URL after `--`: no command runs.
    monkeypatch.setattr(source, "refuse_option", lambda _url: None)
    for ref in ("26.03", "0" * 40):  # clone (tag) and fetch (commit)
        with pytest.raises(SourceError, match="failed"):
            source.fetch_git(url, ref, cache_dir=tmp_path / "cache")
    assert not marker.exists()
    assert not os.path.exists(tmp_path / "cache" / "sources" / "MARKER")


# --- registry ids -------------------------------------------------------------------------------


class _NoNetwork:
    verify = True

    def __init__(self) -> None:
        self.calls: list[str] = []

    def request(self, method: str, url: str, **_: Any) -> Any:
        self.calls.append(url)
        raise AssertionError("no request may be sent")


@pytest.mark.parametrize("bad", ["../../../api/v1/secrets", "1/../2", "1?x=1", "-1", "\uff11"])
def test_registry_ids_must_be_numbers_before_any_request(bad: str) -> None:
    session = _NoNetwork()
    client = RegistryClient("https://k/api/model_registry/v1alpha3", session=session)  # type: ignore[arg-type]
    calls = (
        lambda i: client.get(ModelVersion, i),
        lambda i: client.get(ModelArtifact, i),
        client.list_model_versions,
    )
    for call in calls:
        with pytest.raises(RegistryError, match="is not a number"):
            call(bad)
    assert session.calls == []


# --- kubeconfig errors --------------------------------------------------------------------------


BROKEN_KUBECONFIG = f"""apiVersion: v1
kind: Config
users:
- name: u
  user:
    token: {TOKEN}
    : [unbalanced {TOKEN}
"""


def test_kubeconfig_errors_never_echo_content(tmp_path: Path) -> None:
    errors: list[str] = []
    for call, error in (
        (lambda: load_kubeconfig(BROKEN_KUBECONFIG), KubeconfigError),
        (lambda: read_kubeconfig(BROKEN_KUBECONFIG, context=None, base=tmp_path), KubeconfigError),
        (lambda: read_kubeconfig(TOKEN, context=None, base=tmp_path), KubeconfigError),
        (lambda: server_of_kubeconfig(BROKEN_KUBECONFIG), KubeconfigError),
    ):
        with pytest.raises(error) as caught:
            call()
        errors.append(str(caught.value))
    assert all(TOKEN not in e and "c2VjcmV0" not in e for e in errors), errors
    assert "line" in errors[0]


def test_a_kubeconfig_path_is_still_named(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="no/such/kubeconfig"):
        read_kubeconfig("no/such/kubeconfig", context=None, base=tmp_path)


# --- YAML and JSON limits -----------------------------------------------------------------------


def test_alias_bomb_is_refused_quickly_everywhere(tmp_path: Path) -> None:
    assert len(ALIAS_BOMB) < 700
    started = time.process_time()
    with pytest.raises(UnsafeDocumentError, match="expands to more than"):
        load_one(ALIAS_BOMB, source="x")
    package = tmp_path / "pipeline.yaml"
    package.write_text(ALIAS_BOMB)
    with pytest.raises(PipelinePackageError, match="expands to more than"):
        read_package(package)
    with pytest.raises(RenderError, match="expands to more than"):
        parse_documents(ALIAS_BOMB.encode())
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(
        "config:\n  kfstack:kubeflow:\n" + "".join(f"    {ln}\n" for ln in ALIAS_BOMB.splitlines())
    )
    with pytest.raises(ConfigError, match="expands to more than"):
        settings_from_stack_file(stack)
    assert time.process_time() - started < 5  # refused before expansion, not after


def test_ordinary_aliases_and_recursive_ones(tmp_path: Path) -> None:
    assert load_one("a: &x {b: 1}\nc: *x\n", source="x") == {"a": {"b": 1}, "c": {"b": 1}}
    with pytest.raises(UnsafeDocumentError, match="recursive alias"):
        load_one("&a [*a]", source="x")


def test_deep_nesting_is_a_clear_error(tmp_path: Path) -> None:
    deep_yaml = (
        "config:\n  kfstack:kubeflow:\n"
        + "".join("  " * (i + 2) + f"k{i}:\n" for i in range(100))
        + "  " * 102
        + "v: 1\n"
    )
    with pytest.raises(ConfigError, match="nested deeper than 64"):
        settings_from_stack_file(_write(tmp_path / "Pulumi.dev.yaml", deep_yaml))
    with pytest.raises(ConfigError, match="nested deeper than"):
        parse_settings({"kfstack:kubeflow": "[" * 100_000 + "]" * 100_000}, stack="dev")
    with pytest.raises(UnsafeDocumentError, match="nested deeper than 64"):
        load_json(json.dumps(_nest(80)), source="x")
    record = _write(tmp_path / "release.json", "[" * 200_000 + "]" * 200_000)
    with pytest.raises(ReleaseError, match=r"nested too deeply|more than"):
        load_release(record)


def _nest(depth: int) -> Any:
    node: Any = 1
    for _ in range(depth):
        node = {"k": node}
    return node


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_oversized_inputs_are_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "release.json"
    big.write_bytes(b" " * (1024 * 1024 + 1))
    with pytest.raises(ReleaseError, match="more than"):
        load_release(big)
    with pytest.raises(UnsafeDocumentError, match="bytes"):
        load_one("x" * (8 * 1024 * 1024 + 1), source="x")


# --- storage_uri --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "normal"),
    [
        ("s3://bucket/models//iris/", "s3://bucket/models/iris"),
        ("gs://bucket", "gs://bucket"),
        ("pvc://claim/models/iris", "pvc://claim/models/iris"),
        ("https://host:8443/m", "https://host:8443/m"),
    ],
)
def test_storage_uris_are_normalised(uri: str, normal: str) -> None:
    assert normalise_storage_uri(uri) == normal


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("s3://b/../../x", "path traversal"),
        ("s3://b/models/%2e%2e/x", "path traversal"),
        ("s3://b/./x", "path traversal"),
        ("s3://b/x\nEVIL: 1", "control characters"),
        ("s3://b/x y", "whitespace"),
        ("s3://b\\x", "backslash"),
        ("s3://user:pw@b/x", "credentials"),
        ("https://user@host/x", "credentials"),
        ("s3:///x", "no bucket"),
        ("s3://b/x?versionId=1", "query"),
        ("ftp://host/etc/passwd", "is not one of"),
        ("file://host/etc/passwd", "local model is file:///absolute/path"),
    ],
)
def test_unsafe_storage_uris_are_refused(uri: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        normalise_storage_uri(uri)


# --- secrets in stack files ---------------------------------------------------------------------


def test_a_plaintext_secret_in_a_stack_file_is_refused(tmp_path: Path) -> None:
    path = stack_file(tmp_path, {"kfstack:dexPassword": "hunter22"})
    with pytest.raises(ConfigError, match="kfstack:dexPassword: a secret must be encrypted"):
        settings_from_stack_file(path)
    encrypted = stack_file(tmp_path, {"kfstack:dexPassword": {"secure": "v1:AAAA"}})
    assert "dexPassword" in settings_from_stack_file(encrypted).provided_secrets


def test_a_nested_secret_is_accepted_where_it_is_a_secret(tmp_path: Path) -> None:
    cluster = {"kind": "existing", "kubeconfig": {"secure": "v1:AAAA"}}
    settings = settings_from_stack_file(stack_file(tmp_path, {"kfstack:cluster": cluster}))
    assert settings.cluster.kubeconfig == "[secret]"
    elsewhere = {"kind": "existing", "kubeconfig": "k", "context": {"secure": "v1:AAAA"}}
    with pytest.raises(ConfigError, match=r"kfstack:cluster.context: cannot be a secret"):
        settings_from_stack_file(stack_file(tmp_path, {"kfstack:cluster": elsewhere}))


def test_the_stack_files_of_the_repo_still_read() -> None:
    stacks = Path(__file__).resolve().parents[2] / "stacks"
    for path in sorted(stacks.glob("Pulumi.*.yaml")):
        settings_from_stack_file(path)
    assert subprocess.run(["git", "--version"], capture_output=True, check=False).returncode == 0


def test_the_remote_run_kubeconfig_error_never_echoes_content(tmp_path: Path) -> None:
    from ml.pipelines.remote import RemoteError, kubeconfig_token

    path = _write(tmp_path / "kubeconfig", BROKEN_KUBECONFIG)
    with pytest.raises(RemoteError, match="not valid YAML at line") as caught:
        kubeconfig_token(path)
    assert TOKEN not in str(caught.value)


def test_a_stack_with_no_secret_keys_passes_the_encryption_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Found by the real engine: the CLI sets PULUMI_CONFIG_SECRET_KEYS=null for a stack
    # without secret keys, which the SDK returns as None.
    from infra.config import _require_encrypted, parse_settings

    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", "null")
    settings = parse_settings({}, stack="dev", require_secrets=False)
    _require_encrypted(settings)  # raised TypeError: 'NoneType' object is not iterable
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", '["kfstack:dexPassword"]')
    _require_encrypted(settings)
