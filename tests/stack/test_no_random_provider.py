"""A stack with every secret provided needs no random provider (found by the engine tier).

The real engine has no `random` plugin to load when none is installed (the engine tier builds
none: the Go module proxy does not serve it). The Dex hash's installation salt was always a
`random.RandomBytes`, so even a prod stack with every credential set needed the plugin.
`kfstack:installationSalt` (optional secret) now provides it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.config import ConfigError, parse_settings
from infra.config_model import SECRET_KEYS
from tests.stack.harness import run_stack_file

REPO = Path(__file__).resolve().parents[2]
SECRETS = {f"kfstack:{k}": f"value-of-{k}" for k in (*SECRET_KEYS, "installationSalt")}


def test_every_secret_provided_registers_no_random_resource(kubeflow_manifests: Path) -> None:
    recording = run_stack_file(
        REPO / "stacks" / "Pulumi.dev.yaml",
        overrides={"kfstack:kubeflow": {"source": {"path": str(kubeflow_manifests)}}},
        secrets=SECRETS,
    )
    types = {r.type for r in recording.resources}
    assert not {t for t in types if t.startswith("random:")}, sorted(types)
    assert any(t.startswith("kubernetes:") for t in types)


def test_the_salt_stays_optional_when_nothing_is_generated() -> None:
    config = {
        "kfstack:kubeflow": '{"generateSecrets": false}',
        **{f"kfstack:{k}": {"secure": "v1:abc"} for k in SECRET_KEYS},
    }
    settings = parse_settings(config, stack="prod")
    assert "installationSalt" not in settings.provided_secrets
    assert settings.missing_secrets() == ()


def test_a_provided_salt_is_a_secret_key() -> None:
    config = {"kfstack:installationSalt": {"secure": "v1:abc"}}
    settings = parse_settings(config, stack="dev", require_secrets=False)
    assert "installationSalt" in settings.provided_secrets
    with pytest.raises(ConfigError, match="unknown key"):
        parse_settings({"kfstack:installationSalts": "x"}, stack="dev")
