"""Identifiers and clocks shaped like Stripe's."""

from __future__ import annotations

import secrets
import string
import time

_ALPHABET = string.ascii_letters + string.digits


def random_token(length: int = 24, alphabet: str = _ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_id(prefix: str) -> str:
    """`cus_`, `pi_`, `req_`... followed by 24 random alphanumerics, like Stripe's test-mode ids."""
    return f"{prefix}_{random_token()}"


def now() -> int:
    """Unix seconds, the unit of every `created` field."""
    return int(time.time())
