"""moto's S3 server behind the rules a profile's keys have on the cluster.

The release's profile controller (`tests/profile_controller.py` runs the real `sync.py`)
gives each profile keys allowed only some prefixes of bucket `mlpipeline` (26.03:
`artifacts/`, `private-artifacts/<ns>/`, `private/<ns>/`, `shared/`). `GatedS3` answers a
request signed with such a key 403 AccessDenied, as SeaweedFS does, when its object key (or
a listing's prefix) is outside them; a request on the bucket itself (no key, no prefix) is
refused to such a key too, as the policy names no bucket ARN. Keys without rules (the
platform's admin keys) reach everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

from moto.server import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    ThreadedMotoServer,
    create_backend_app,
)
from werkzeug.serving import make_server

CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
    b"<Message>Access Denied</Message></Error>"
)


class GatedS3(ThreadedMotoServer):
    """A loopback moto server whose keys may carry allowed prefixes (`allow`)."""

    def __init__(self) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.rules: dict[str, tuple[str, ...]] = {}
        self.denied: list[str] = []

    def allow(self, access_key: str, prefixes: Iterable[str] | None) -> None:
        """Limit `access_key` to `prefixes` of the bucket (None: no limit)."""
        if prefixes is None:
            self.rules.pop(access_key, None)
        else:
            self.rules[access_key] = tuple(prefixes)

    def _allowed(self, environ: dict[str, Any]) -> bool:
        found = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        prefixes = self.rules.get(found.group(1)) if found else None
        if prefixes is None:
            return True
        _, _, key = unquote(environ.get("PATH_INFO", "")).lstrip("/").partition("/")
        if not key:
            key = parse_qs(environ.get("QUERY_STRING", "")).get("prefix", [""])[0]
        allowed = bool(key) and key.startswith(prefixes)
        if not allowed:
            self.denied.append(f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO')}")
        return allowed

    def _gate(self, app: Any) -> Callable[..., Any]:
        def gated(environ: dict[str, Any], start_response: Any) -> Any:
            if self._allowed(environ):
                return app(environ, start_response)
            start_response("403 Forbidden", [("Content-Type", "application/xml")])
            return [DENIED]

        return gated

    def _server_entry(self) -> None:
        app = self._gate(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()
