"""KServe facts shared by the stack (which writes InferenceServices) and `serve check`.

Plain constants only: infra imports this module, so it must stay free of heavy imports.
"""

from __future__ import annotations

from typing import Final

__all__ = ["TAG_ROUTING_ANNOTATION"]

#: The InferenceService annotation that makes KServe tag its revisions (the canary `latest`,
#: the previous one `prev`), so a canary can be reached on its own.
TAG_ROUTING_ANNOTATION: Final = "serving.kserve.io/enable-tag-routing"
