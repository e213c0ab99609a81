"""A small HTTP client for the local stack (the demo, `make invoke`, the e2e tests): no proxies, no
redirects followed, JSON in and out."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is an answer to show, not to follow


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def code(self) -> str | None:
        """The problem's machine-readable `code`, if this is a problem response."""
        data = self.json if self.body.startswith(b"{") else None
        return data.get("code") if isinstance(data, dict) else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = 60.0,
) -> HttpResult:
    # Only 127.0.0.1 URLs are built by callers; the scheme is always http.
    outgoing = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
    try:
        with _OPENER.open(outgoing, timeout=timeout_s) as response:
            return HttpResult(response.status, _lower(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return HttpResult(error.code, _lower(error.headers.items()), error.read())


def _lower(items: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in items}


class ApiClient:
    """Calls `<api_url><path>` as a frontend would: bearer token, JSON body, an Idempotency-Key on writes."""

    def __init__(self, api_url: str, token: str | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token

    def as_(self, token: str | None) -> ApiClient:
        return ApiClient(self.api_url, token)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResult:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        if method in ("POST", "PUT", "DELETE"):
            sent.setdefault("Idempotency-Key", idempotency_key or str(uuid.uuid4()))
        data = None if body is None else json.dumps(body).encode()
        return request(method, self.api_url + path, body=data, headers=sent)

    def get(self, path: str) -> HttpResult:
        return self.call("GET", path)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> HttpResult:
        return self.call("POST", path, body if body is not None else {}, **kwargs)
