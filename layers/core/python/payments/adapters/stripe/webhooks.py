"""What processing Stripe's webhooks needs from Stripe: the signature check, and whole events.

The signature check follows Stripe's scheme exactly as the SDK's `WebhookSignature.verify_header` does
(`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, any v1 may match, the
timestamp within the tolerance), on `hmac` alone: importing the SDK costs the webhook ~130 ms of cold
start on top of boto3 (measured; the package's __init__ loads `requests`), for 20 lines of stdlib.
tests/unit/test_webhook_signature.py holds it to the SDK's own signer and verifier.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence
from typing import Any

from payments.adapters.stripe.client import StripeAdapter
from payments.domain.errors import BadRequest

SCHEME = "v1"


class SignatureInvalid(BadRequest):
    def __init__(self, detail: str) -> None:
        super().__init__("signature_invalid", detail)


def verify_signature(
    payload: bytes, header: str | None, secrets: Sequence[str], tolerance: int, now: float | None = None
) -> None:
    """Raise SignatureInvalid unless one of `secrets` signed `payload` within `tolerance` seconds."""
    if not header:
        raise SignatureInvalid("the Stripe-Signature header is missing")
    timestamp, signatures = _parse_header(header)
    signed = str(timestamp).encode() + b"." + payload
    expected = [hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() for secret in secrets if secret]
    # Compare against every candidate (no early exit): timing tells nothing about which one matched.
    matches = [hmac.compare_digest(e, s) for e in expected for s in signatures]
    if not any(matches):
        raise SignatureInvalid("no signature matches the body")
    if timestamp < (time.time() if now is None else now) - tolerance:
        raise SignatureInvalid("the signature's timestamp is outside the tolerance (a replay?)")


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == SCHEME and value:
            signatures.append(value)
    if timestamp is None:
        raise SignatureInvalid("the Stripe-Signature header has no timestamp")
    if not signatures:
        raise SignatureInvalid(f"the Stripe-Signature header has no {SCHEME} signature")
    return timestamp, signatures


class StripeEvents(StripeAdapter):
    """A whole event as Stripe keeps it, for subscribers given a slimmed copy by the webhook."""

    def retrieve_event(self, event_id: str) -> dict[str, Any]:
        import stripe

        from payments.adapters.stripe.gateway import translate

        try:
            event = self._stripe.v1.events.retrieve(event_id)
        except stripe.StripeError as error:
            raise translate(error) from error
        return dict(event.to_dict())
