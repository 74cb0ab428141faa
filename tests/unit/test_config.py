"""Stack config: one typed, frozen StackSettings; every problem named by key path."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from pydantic import ValidationError

from infra.config import (
    KNOWN_KEYS,
    ConfigError,
    kubeflow_settings_from_stack_file,
    parse_settings,
    settings_from_stack_file,
)
from infra.config_model import OPTIONAL_SECRET_KEYS, SECRET_KEYS, UserConfig

REPO = Path(__file__).resolve().parents[2]
STACKS = REPO / "stacks"


def _raw(**objects: Any) -> dict[str, Any]:
    return {f"kfstack:{key}": json.dumps(value) for key, value in objects.items()}


BAD_CONFIGS: list[tuple[str, dict[str, Any], str]] = [
    ("wrong type", _raw(cluster={"nodeCount": "three"}), "kfstack:cluster.nodeCount"),
    ("node count below 1", _raw(cluster={"nodeCount": 0}), "kfstack:cluster.nodeCount"),
    ("eks without region", _raw(cluster={"kind": "eks"}), "region is required"),
    ("gke without project", _raw(cluster={"kind": "gke", "region": "r"}), "project"),
    ("unknown cluster kind", _raw(cluster={"kind": "aks"}), "kfstack:cluster.kind"),
    ("unknown top-level key", {"kfstack:clustr": "{}"}, "kfstack:clustr: unknown key"),
    ("unknown nested key", _raw(cluster={"nodes": 3}), "kfstack:cluster.nodes"),
    (
        "unsupported kubernetes version",
        _raw(cluster={"kubernetesVersion": "1.29"}),
        "1.32, 1.33, 1.34, 1.35",
    ),
    (
        "version not a string",
        {"kfstack:cluster": '{"kubernetesVersion": 1.3}'},
        "kubernetesVersion",
    ),
    ("unknown preset", _raw(kubeflow={"preset": "everything"}), "kfstack:kubeflow.preset"),
    ("bad user email", _raw(kubeflow={"users": [{"email": "bob"}]}), "users[0].email"),
    ("existing without kubeconfig", _raw(cluster={"kind": "existing"}), "kubeconfig"),
    (
        "source with both path and git",
        _raw(kubeflow={"source": {"path": "/x", "git": {"ref": "v1"}}}),
        "kfstack:kubeflow.source",
    ),
    ("unsupported release", _raw(kubeflow={"release": "1.7"}), "release '1.7'"),
    ("object not JSON", {"kfstack:cluster": "{kind: kind"}, "kfstack:cluster: not a valid"),
    (
        "serving replicas",
        _raw(serving={"releaseRecord": "r.json", "minReplicas": 3, "maxReplicas": 1}),
        "maxReplicas must be >= minReplicas",
    ),
    ("kind cluster too big", _raw(cluster={"nodeCount": 5}), "at most 3 nodes"),
    (
        "region on kind",
        _raw(cluster={"region": "eu-west-1"}),
        "kfstack:cluster.region: applies only to kinds 'eks' and 'gke', not 'kind'",
    ),
]


@pytest.mark.parametrize(("case", "raw", "expected"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_names_the_key(case: str, raw: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, stack="dev")
    assert expected in str(caught.value), case


def test_all_problems_are_reported_together() -> None:
    raw = {
        "kfstack:bogus": "1",
        **_raw(cluster={"nodeCount": 0, "diskSizeGb": 1}, kubeflow={"preset": "x"}),
    }
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, stack="dev")
    problems = caught.value.problems
    assert len(problems) == 4
    assert {p.split(":")[1].split(" ")[0] for p in problems} == {
        "bogus",
        "cluster.nodeCount",
        "cluster.diskSizeGb",
        "kubeflow.preset",
    }


def test_missing_secrets_are_required_when_not_generated() -> None:
    raw = _raw(kubeflow={"generateSecrets": False})
    raw["kfstack:dexPassword"] = "secret"
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, stack="prod")
    missing = [p for p in caught.value.problems if "required secret" in p]
    assert len(missing) == len(SECRET_KEYS) - 1
    assert not any("dexPassword" in p for p in missing)
    # A plan needs no secret value.
    assert parse_settings(raw, stack="prod", require_secrets=False).missing_secrets()


def test_other_namespaces_are_left_to_their_providers() -> None:
    settings = parse_settings({"aws:region": "eu-west-1", "kubernetes:context": "x"}, stack="d")
    assert settings.cluster.kind == "kind"


def test_defaults_and_frozen() -> None:
    settings = parse_settings({}, stack="dev")
    assert settings.cluster_name == "kfstack-dev"
    assert settings.kubeflow.preset == "full"
    assert settings.kubeflow.source.git is not None
    with pytest.raises(ValidationError):
        settings.cluster.node_count = 3  # type: ignore[misc]


def test_profile_is_derived_from_email() -> None:
    assert UserConfig(email="user@example.com").resolved_profile() == "kubeflow-user-example-com"
    assert UserConfig(email="a@b.io", profile="team-a").resolved_profile() == "team-a"


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_stack_files_are_valid(env: str) -> None:
    settings = settings_from_stack_file(STACKS / f"Pulumi.{env}.yaml")
    assert settings.stack == env
    expected_kind = {"dev": "kind", "staging": "gke", "prod": "eks"}[env]
    assert settings.cluster.kind == expected_kind
    assert settings.kubeflow.preset == ("ml-core" if env == "dev" else "full")
    assert settings.kubeflow.protect_data is (env == "prod")


def test_kubeflow_settings_from_stack_file_resolves_relative_source(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: kfstack\n")
    (tmp_path / "stacks").mkdir()
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    stack = tmp_path / "stacks" / "Pulumi.t.yaml"
    stack.write_text(
        yaml.safe_dump(
            {
                "config": {
                    "kfstack:kubeflow": {
                        "source": {"path": "manifests"},
                        "preset": "ml-core",
                        "users": [{"email": "a@b.io"}, {"email": "c@d.io", "profile": "cd"}],
                    }
                }
            }
        )
    )
    kf = kubeflow_settings_from_stack_file(stack)
    assert kf.source.path == manifests
    assert kf.preset == "ml-core"
    assert [u.profile for u in kf.users] == ["kubeflow-a-b-io", "cd"]


def test_pulumi_yaml_declares_exactly_the_known_keys() -> None:
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    # The program's directory is the root, where dynamic providers find .venv (no `main`).
    assert "main" not in project
    assert project["stackConfigDir"] == "stacks"
    assert project["runtime"]["options"]["toolchain"] == "uv"
    declared = project["config"]
    # Secret keys are left out: the CLI would require them of every stack (see
    # tests/unit/test_pulumi_cli_config.py); the README's config reference lists them.
    assert set(declared) == set(KNOWN_KEYS) - set(SECRET_KEYS) - set(OPTIONAL_SECRET_KEYS)
    assert all(declared[key].get("description") for key in declared)


def test_the_readme_lists_exactly_the_secret_keys() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    row = next(line for line in readme if line.startswith("| secrets |"))
    named = set(re.findall(r"`(\w+)`", row)) - {"kfstack"}
    assert named == set(SECRET_KEYS) | set(OPTIONAL_SECRET_KEYS)


def test_release_comes_from_the_release_table() -> None:
    from infra.config_model import KubeflowConfig, StackSettings

    older = KubeflowConfig(release="v1.10.2")
    assert older.source.git is not None and older.source.git.ref == "v1.10.2"
    with pytest.raises(ValidationError, match=r"allowed: 1\.32, 1\.33"):
        StackSettings(stack="s", kubeflow=older)  # cluster default 1.34: not for v1.10.2
    with pytest.raises(ValidationError, match=r"known: 26\.03, v1\.10\.2, v1\.11\.0"):
        KubeflowConfig(release="1.9")


def test_config_validation_imports_no_pulumi_and_no_render(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncontexts: [{name: c}]\n")
    script = f"""
import json, sys
from pathlib import Path
from infra.config import settings_from_stack_file, parse_settings
for name in ("dev", "staging", "prod"):
    settings_from_stack_file(Path("stacks") / f"Pulumi.{{name}}.yaml")
cluster = {{"kind": "existing", "kubeconfig": {str(kubeconfig)!r}, "context": "c"}}
settings = parse_settings({{"kfstack:cluster": json.dumps(cluster)}}, stack="t")
assert settings.cluster.file_problems(Path.cwd()) == []
heavy = ("pulumi", "infra.kubeflow.render", "infra.kubeflow.transforms", "infra.kubeflow.checks")
print(sorted(m for m in sys.modules if m.startswith(heavy)))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_presets_are_the_release_tables() -> None:
    """`Preset` names `full` (the example) and every table's `[presets]`, no more."""
    from infra.kubeflow.catalogue import RELEASES
    from infra.kubeflow.catalogue.select import FULL
    from infra.kubeflow.settings import Preset

    for release in RELEASES:
        assert {FULL, *release.presets} == set(get_args(Preset)), release.name


def test_test_modes_are_the_transforms() -> None:
    from infra.kubeflow.settings import TestMode
    from infra.kubeflow.transforms.testmode import TEST_MODES

    assert set(get_args(TestMode)) == set(TEST_MODES)


def test_the_readme_kubeflow_row_names_every_field_and_its_choices() -> None:
    from pydantic.alias_generators import to_camel

    from infra.config_model import KubeflowConfig

    readme = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    row = next(line for line in readme if line.startswith("| `kfstack:kubeflow` |"))
    for name, info in KubeflowConfig.model_fields.items():
        camel = to_camel(name)
        assert f"`{camel}" in row, camel
        literal = [a for a in (info.annotation, *get_args(info.annotation)) if get_args(a)]
        listed = re.search(rf"`{camel}` \(((?:`[\w-]+`(?:, )?)+)", row)
        if literal and listed:
            choices = set(re.findall(r"`([\w-]+)`", listed.group(1)))
            assert choices == {str(c) for c in get_args(literal[-1])}, camel
