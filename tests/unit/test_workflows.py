"""The CI workflows keep secrets in deploying environments, pin every action, and the test job
fetches the release data the tests read with the script a clone uses anywhere."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import shared
from tests.engine.harness import PULUMI_ENV_FILE, shipped_settings

WORKFLOWS = sorted((Path(__file__).parents[2] / ".github" / "workflows").glob("*.y*ml"))
KFSTACK = Path(__file__).parents[2] / ".github" / "workflows" / "kfstack.yml"
_PINNED = re.compile(r"^\s*-?\s*uses:\s*[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$")


def _jobs(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return dict(document["jobs"])


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path) -> None:
    lines = [line for line in path.read_text().splitlines() if re.match(r"^\s*-?\s*uses:", line)]
    assert lines
    loose = [line.strip() for line in lines if not line.strip().startswith("uses: ./")]
    assert [line for line in loose if not _PINNED.match(line)] == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_secrets_only_in_jobs_with_an_environment(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert "secrets." not in yaml.safe_dump(document.get("env") or {})
    for name, job in _jobs(path).items():
        # GITHUB_TOKEN is the run's own scoped token (its permissions are the job's).
        stored = yaml.safe_dump(job).replace("secrets.GITHUB_TOKEN", "")
        if "secrets." in stored:
            assert job.get("environment"), f"job {name} reads secrets without an environment"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_permissions_and_no_persisted_checkout_token(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for name, job in _jobs(path).items():
        explicit = "permissions" in job or document.get("permissions") == {}
        assert explicit, f"job {name} has no explicit permissions"
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name


def test_prod_previews_wait_for_a_reviewer_and_plans_get_no_credentials() -> None:
    jobs = _jobs(KFSTACK)
    assert jobs["preview-prod"]["environment"] == "preview-prod"
    for name in ("test", "plan"):
        text = yaml.safe_dump(jobs[name])
        assert "secrets." not in text
        assert "id-token" not in text


def test_the_test_job_fetches_every_release_the_tests_read_with_the_script() -> None:
    runs = [str(step.get("run", "")) for step in _jobs(KFSTACK)["test"]["steps"]]
    tests = [i for i, run in enumerate(runs) if "make test" in run]
    assert len(tests) == 1
    # The script, with no selection, fetches all of tests/shared.toml and names the folder
    # the tests then read; the step exports it to `make test`.
    shell = runs[tests[0]].splitlines()
    assert shell == [
        'KFSTACK_SHARED="$(scripts/fetch-shared)"',
        "export KFSTACK_SHARED",
        "make test",
    ]
    # No second list of what to fetch: no other download, no release named in the workflow.
    text = "\n".join(runs)
    assert not re.search(r"git clone|curl|wget|gh release", text)
    for piece in shared.NEEDS.pieces:
        assert piece.folder not in text
    assert not [copy.tag for copy in shared.NEEDS.kubeflow if copy.tag in KFSTACK.read_text()]


def test_ci_and_make_run_pulumi_with_the_shipped_settings() -> None:
    settings = shipped_settings()
    assert settings["PULUMI_SKIP_CHECKPOINTS"] == "true"
    assert settings["PULUMI_K8S_ENABLE_PATCH_FORCE"] == "true"
    workflow = yaml.safe_load(KFSTACK.read_text(encoding="utf-8"))
    assert {k: str(v) for k, v in workflow["env"].items() if k.startswith("PULUMI_")} == settings
    makefile = (PULUMI_ENV_FILE.parent / "Makefile").read_text(encoding="utf-8")
    for target in ("up", "preview", "destroy"):
        recipe = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
        assert recipe is not None, target
        assert "$(SETTINGS)" in recipe.group(1), f"make {target} does not export pulumi.env"
    assert "SETTINGS = set -a && . ./pulumi.env && set +a" in makefile


def test_shipped_settings_refuse_a_line_that_is_not_a_setting(tmp_path: Path) -> None:
    bad = tmp_path / "pulumi.env"
    bad.write_text("# fine\nPULUMI_SKIP_CHECKPOINTS=true\nexport FOO\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"pulumi.env:3: expected PULUMI_NAME=value"):
        shipped_settings(bad)
