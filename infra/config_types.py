"""The building blocks of stack config models, shared by `config_model` and the cluster kinds.

Pure data (pydantic only): the base every config model derives from, and the value
formats more than one model, or a model and the code that reads it, agree on.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = ["DURATION", "ConfigModel", "DnsLabel", "Duration", "duration_seconds"]

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# A duration as stack config writes it (`readyTimeout: 15m`): a positive count of s, m or h.
DURATION = re.compile(r"^([1-9][0-9]*)(s|m|h)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


class ConfigModel(BaseModel):
    """A model of stack config: frozen, camelCase keys, unknown keys refused."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        strict=False,
    )


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.match(value):
        raise ValueError("must be a DNS label: lowercase letters, digits and '-', <= 63")
    return value


# A name that becomes a Kubernetes name (a cluster, a Profile's namespace).
DnsLabel = Annotated[str, AfterValidator(_dns_label)]

# A duration field (`900s`, `15m`, `1h`); `duration_seconds` reads it.
Duration = Annotated[str, Field(pattern=DURATION.pattern)]


def duration_seconds(duration: str) -> int:
    """`90s`, `15m`, `1h` -> seconds (the form a `Duration` field allows).

    Raises:
        ValueError: another form.
    """
    match = DURATION.match(duration)
    if not match:
        raise ValueError(f"{duration!r}: give a duration like 900s, 15m or 1h")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
