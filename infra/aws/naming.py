"""Construct ids from catalog names (`payment_methods` -> `PaymentMethods`)."""

from __future__ import annotations

import re


def construct_id(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)
