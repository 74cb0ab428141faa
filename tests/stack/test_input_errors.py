"""Bad input ends the program as the CLI shows it: one error line, nothing registered.

The real CLI prints a `pulumi.RunError` as its message alone, and any other exception as a
traceback under "Program failed with an unhandled exception" (what a bad stack file showed
before). The other stack tests assert the input error itself (the harness unwraps it).
"""

from __future__ import annotations

import json

import pulumi
import pytest

from infra.config import ConfigError
from tests.stack.harness import Recording, run_program


def test_a_bad_stack_config_ends_the_program_with_one_line_naming_the_key() -> None:
    recording = Recording()
    config = {"kfstack:cluster": json.dumps({"kind": "kind", "nodeCount": 0})}
    with pytest.raises(pulumi.RunError) as caught:
        run_program("dev", config, recording=recording, unwrap_input_errors=False)
    message = str(caught.value)
    assert message.startswith("ConfigError: ")
    assert "nodeCount" in message
    assert isinstance(caught.value.__cause__, ConfigError)
    assert recording.resources == []
