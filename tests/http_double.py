"""The one loopback HTTP server behind the tests' doubles (KFP API, KServe predict, Registry).

A double is a function from a `Request` to a status and a JSON body; `JsonServer` runs it on
a thread at an ephemeral port of 127.0.0.1 (or a given address), answers in JSON with a
Content-Length, and keeps the test output quiet.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")


@dataclass(frozen=True)
class Request:
    """One request as the double sees it."""

    method: str
    path: str  # without the query
    query: str  # the raw query string
    headers: Message
    raw: bytes

    def json(self) -> Any:
        """The body as JSON (None when empty)."""
        return json.loads(self.raw) if self.raw else None


Answer = Callable[[Request], tuple[int, Any]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a test's short timeout) is no error of the double."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class JsonServer:
    """A threaded loopback server answering every request with `answer` (status, JSON body)."""

    def __init__(
        self,
        answer: Answer,
        *,
        address: tuple[str, int] = ("127.0.0.1", 0),
        methods: tuple[str, ...] = METHODS,
        protocol: str = "HTTP/1.0",
    ) -> None:
        self._server = _Server(address, _handler(answer, methods, protocol))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:41234``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> JsonServer:
        """Serve on a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> JsonServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler(
    answer: Answer, methods: tuple[str, ...], protocol: str
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = protocol

        def _serve(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, body = answer(Request(self.command, split.path, split.query, self.headers, raw))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    for method in methods:
        setattr(Handler, f"do_{method}", Handler._serve)
    return Handler
