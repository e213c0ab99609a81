"""Opaque list cursors, signed and bound to the caller and the query: a forged, altered or foreign
cursor is refused (400) instead of leaking someone else's page."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from payments.domain.errors import InvalidCursor

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# What encode_cursor makes: base64url payload, a dot, base64url signature. Anything else (non-ASCII
# characters among them, which hmac.compare_digest cannot compare) is refused before any decoding.
_CURSOR = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_=-]+")


def encode_cursor(next_key: dict[str, Any] | None, key: bytes, binding: str) -> str | None:
    if next_key is None:
        return None
    payload = (
        base64.urlsafe_b64encode(json.dumps(next_key, separators=(",", ":")).encode()).decode().rstrip("=")
    )
    return f"{payload}.{_sign(key, payload, binding)}"


def decode_cursor(cursor: str | None, key: bytes, binding: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    if not isinstance(cursor, str) or not cursor.isascii() or not _CURSOR.fullmatch(cursor):
        raise InvalidCursor("the cursor is malformed", param="cursor")
    payload, _, signature = cursor.partition(".")
    if not hmac.compare_digest(signature, _sign(key, payload, binding)):
        raise InvalidCursor("the cursor is not valid for this caller and query", param="cursor")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        raise InvalidCursor("the cursor is malformed", param="cursor") from None
    if not isinstance(decoded, dict):
        raise InvalidCursor("the cursor is malformed", param="cursor")
    return decoded


def binding_for(caller_sub: str, **query: Any) -> str:
    """What a cursor is bound to: who asked and what they asked for (minus the cursor itself)."""
    return json.dumps({"caller": caller_sub, **query}, sort_keys=True, default=str)


def _sign(key: bytes, payload: str, binding: str) -> str:
    mac = hmac.new(key, f"{binding}\n{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode()


@dataclass(frozen=True)
class Paging:
    """One list query's cursors: signed with the service's key, bound to the caller and the query."""

    key: bytes
    binding: str

    def start(self, cursor: str | None) -> dict[str, Any] | None:
        """Where the page starts: the store's key the client's cursor carries (None: the first page)."""
        return decode_cursor(cursor, self.key, self.binding)

    def body(self, data: list[dict[str, Any]], next_key: dict[str, Any] | None) -> dict[str, Any]:
        """A list response: the page's items and the cursor of the next page (None: the last one)."""
        return {"data": data, "next_cursor": encode_cursor(next_key, self.key, self.binding)}
