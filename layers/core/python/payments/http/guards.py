"""Checks on the raw request before any parsing or logging: size, JSON, and the PAN guard.

Card numbers must never enter our systems: a body holding anything that looks like one (13-19 digits,
optionally grouped by spaces or dashes, in a card network's range, passing Luhn) is refused, and the value
is never echoed or logged.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from payments.domain.errors import BadRequest, CardDataNotAccepted

MAX_BODY_BYTES = 64 * 1024
_DIGIT_RUN = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
# Card networks' number ranges (Visa 4, Mastercard 22-27 and 5, Amex/Diners/JCB 3, Discover/UnionPay/
# Maestro 6, UnionPay 81): a Luhn-valid run outside them, e.g. a numeric order id, is not a card number.
_CARD_PREFIX = re.compile(r"^(?:[3-6]|2[2-7]|81)")


def raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("malformed_body", "the body is not valid base64") from None
    return body.encode() if isinstance(body, str) else bytes(body)


def parse_json_body(event: dict[str, Any]) -> Any:
    """The decoded JSON body (None when empty), after the size and PAN checks."""
    data = raw_body(event)
    if len(data) > MAX_BODY_BYTES:
        raise BadRequest("payload_too_large", f"the body must be at most {MAX_BODY_BYTES} bytes")
    if not data.strip():
        return None
    try:
        text = data.decode("utf-8")
        parsed = json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("malformed_json", "the body is not valid JSON") from None
    # Check the raw text and the decoded values (a \u-escaped number is still a card number).
    if contains_card_number(text) or contains_card_number(json.dumps(parsed, ensure_ascii=False)):
        raise CardDataNotAccepted(
            "card numbers are not accepted; send a Stripe payment method id (pm_...) instead"
        )
    return parsed


def _reject_constant(text: str) -> None:
    raise ValueError(f"{text} is not JSON")


def contains_card_number(text: str) -> bool:
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) and luhn_valid(digits):
            return True
    return False


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char)
        if index % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0
