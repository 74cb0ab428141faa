"""The thin HTTP shell: POST predict requests with the gateway's credentials.

A 400 or 422 is the server rejecting rows (`Refused`, with its reason); everything else that
is not a 200 stops the check with an EndpointError naming the URL and the status: 401/403
(credentials), a redirect (Kubeflow's oauth2-proxy sends unauthenticated calls to its login
page), 404 (no such model or route), 5xx, timeouts and refused connections.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import requests

from ml.servecheck.batching import Accepted, Refused, Reply
from ml.servecheck.protocol import (
    Protocol,
    ProtocolError,
    encode,
    error_reason,
    parse_response,
    request_body,
)
from ml.servecheck.targets import Target

#: Kubeflow's oauth2-proxy session cookie (the name a bare `--cookie VALUE` gets).
DEFAULT_COOKIE = "oauth2_proxy_kubeflow"
#: Environment variables read when no flag is given.
TOKEN_ENV = "KFSTACK_TOKEN"
COOKIE_ENV = "KFSTACK_COOKIE"
_REJECTS = (400, 422)


class EndpointError(RuntimeError):
    """The endpoint failed in a way no row is to blame for; the message says what to do."""

    def __init__(self, url: str, message: str, status: int | None = None) -> None:
        self.url = url
        self.status = status
        where = f"{url}: HTTP {status}" if status is not None else url
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Auth:
    """What the gateway needs: a bearer token (user or service account) and/or a cookie."""

    token: str | None = None
    cookie: tuple[str, str] | None = None

    def headers(self) -> dict[str, str]:
        """The request headers carrying the credentials."""
        out = {}
        if self.token:
            out["Authorization"] = f"Bearer {self.token}"
        if self.cookie:
            out["Cookie"] = f"{self.cookie[0]}={self.cookie[1]}"
        return out

    @property
    def kind(self) -> str:
        """What was sent, for reports (never the secret itself)."""
        kinds = (["bearer token"] if self.token else []) + (
            [f"cookie {self.cookie[0]}"] if self.cookie else []
        )
        return " + ".join(kinds) or "none"


def load_auth(
    *, token_file: Path | None, cookie: str | None, env: Mapping[str, str] | None = None
) -> Auth:
    """Credentials from flags, else from $KFSTACK_TOKEN / $KFSTACK_COOKIE.

    Args:
        token_file: A file holding a bearer token, e.g. a Kubernetes service-account token
            (m2m: `kubectl create token <sa> --audience ...`, or a projected token volume).
        cookie: `NAME=VALUE`, or a bare value for Kubeflow's `oauth2_proxy_kubeflow` cookie.
        env: The environment (default: os.environ).

    Raises:
        ValueError: the token file is missing or empty.

    """
    env = os.environ if env is None else env
    token = env.get(TOKEN_ENV) or None
    if token_file is not None:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ValueError(f"--token-file {token_file}: cannot read it: {err}") from None
        if not token:
            raise ValueError(f"--token-file {token_file}: the file is empty")
    cookie = cookie or env.get(COOKIE_ENV) or None
    pair = None
    if cookie:
        name, sep, value = cookie.partition("=")
        pair = (name.strip(), value.strip()) if sep else (DEFAULT_COOKIE, cookie.strip())
    return Auth(token=token, cookie=pair)


class HttpSender:
    """Sends rows of the holdout to one target; a callable for `batching.predict_all`."""

    def __init__(
        self,
        target: Target,
        protocol: Protocol,
        features: Mapping[str, np.ndarray],
        *,
        headers: Mapping[str, str],
        timeout: float,
        output: str | None = None,
        dtypes: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.target = target
        self.protocol = protocol
        self.features = features
        self.headers = {"Content-Type": "application/json", **headers, **target.headers}
        self.timeout = timeout
        self.output = output
        self.dtypes = dtypes
        self.session = session or requests.Session()

    def __call__(self, rows: Sequence[int]) -> Reply:
        """POST the rows; Accepted or Refused, or raise EndpointError."""
        url = self.target.url
        body = encode(request_body(self.protocol, self.features, rows, dtypes=self.dtypes))
        try:
            response = self.session.post(
                url, data=body, headers=self.headers, timeout=self.timeout, allow_redirects=False
            )
        except requests.Timeout:
            raise EndpointError(
                url,
                f"no answer within {self.timeout:g} s (timeout): raise --timeout, lower "
                "--batch-size, or check that the predictor is ready (kubectl get isvc)",
            ) from None
        except requests.ConnectionError as err:
            raise EndpointError(url, f"cannot connect: {_short(err)}") from None
        status = response.status_code
        if status in _REJECTS:
            return Refused(error_reason(response.text))
        if status != 200:
            raise EndpointError(url, _status_message(status, response), status)
        try:
            decoded: Any = response.json()
            answer = parse_response(self.protocol, decoded, len(rows), output=self.output)
            return Accepted(answer.values, answer.classes)
        except ValueError as err:  # not JSON, or a ProtocolError
            detail = str(err) if isinstance(err, ProtocolError) else "the body is not JSON"
            message = f"not a {self.protocol} predict response: {detail}"
            raise EndpointError(url, message, status) from None

    def close(self) -> None:
        """Release the connection pool."""
        self.session.close()


def _status_message(status: int, response: requests.Response) -> str:
    reason = error_reason(response.text)
    if status in (401, 403):
        verb = "not authenticated" if status == 401 else "not allowed"
        return (
            f"{verb} ({reason}): give a bearer token (--token-file, e.g. a service-account "
            f"token, or ${TOKEN_ENV}) or the gateway's session cookie (--cookie, or "
            f"${COOKIE_ENV}) that may call this InferenceService"
        )
    if 300 <= status < 400:
        location = response.headers.get("Location", "?")
        return (
            f"redirected to {location}: the gateway wants a login; give --token-file or "
            "--cookie (Kubeflow's oauth2-proxy redirects unauthenticated calls)"
        )
    if status == 404:
        return f"no such model or route ({reason}): check --endpoint and the model name"
    if status >= 500:
        return f"server error ({reason}): see the predictor's logs (kubectl logs)"
    return reason


def _short(err: Exception) -> str:
    text = str(err)
    return text if len(text) <= 200 else text[:197] + "..."
