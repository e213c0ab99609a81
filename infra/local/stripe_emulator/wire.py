"""Transport-neutral requests and responses, so the API can be exercised without sockets."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.local.loopback import RequestLine


@dataclass(frozen=True)
class HttpRequest(RequestLine):
    headers: Mapping[str, str]  # lower-cased names
    body: bytes = b""


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
