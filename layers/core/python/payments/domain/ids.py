"""Identifiers. Payment ids derive from the caller and their Idempotency-Key, so a retry after a crash
anywhere finds the payment it started instead of making a second one."""

from __future__ import annotations

import base64
import hashlib
import json


def _digest(*parts: str) -> str:
    raw = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return base64.b32encode(raw).decode().lower().rstrip("=")[:26]


def payment_id_for(customer_id: str, idempotency_key: str) -> str:
    return "pay_" + _digest("payment", customer_id, idempotency_key)


def derived_id(prefix: str, *parts: str) -> str:
    return f"{prefix}_" + _digest(prefix, *parts)


def request_fingerprint(body: object) -> str:
    """A stable hash of a request body (JSON-like data), to tell "same request" from "key reused"."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
