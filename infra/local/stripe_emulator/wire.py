"""Transport-neutral requests and responses, so the API can be exercised without sockets."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # path and query string, as on the request line
    headers: Mapping[str, str]  # lower-cased names
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        return urlsplit(self.target).query


@dataclass
class HttpResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Close the connection without answering, like a network failure.
    disconnect: bool = False


def encode_json(value: Any) -> bytes:
    """Stripe answers with pretty-printed JSON."""
    return json.dumps(value, indent=2, ensure_ascii=False).encode("utf-8")


def json_response(status: int, value: Any, headers: Mapping[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, encode_json(value), {"Content-Type": "application/json", **(headers or {})})
