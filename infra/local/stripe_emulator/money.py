"""Currencies, charge amount limits and the emulated fee schedule."""

from __future__ import annotations

from .errors import invalid_request

# Stripe's documented minimum charge amounts, in the currency's minor unit. Only these currencies
# are accepted by the emulator.
MINIMUM_CHARGE: dict[str, int] = {
    "aed": 200,
    "aud": 50,
    "brl": 50,
    "cad": 50,
    "chf": 50,
    "czk": 1500,
    "dkk": 250,
    "eur": 50,
    "gbp": 30,
    "hkd": 400,
    "inr": 50,
    "jpy": 50,
    "mxn": 1000,
    "nok": 300,
    "nzd": 50,
    "pln": 200,
    "sek": 300,
    "sgd": 50,
    "usd": 50,
    # Three-decimal currencies: Stripe takes amounts in multiples of 10 only.
    "bhd": 200,
    "jod": 400,
    "kwd": 200,
    "omr": 200,
    "tnd": 2000,
}
MAXIMUM_CHARGE = 99_999_999
ZERO_DECIMAL = frozenset({"jpy"})
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

DISPUTE_FEE = 1500


def card_fee(amount: int, currency: str) -> int:
    """2.9% (rounded half up) plus 30 minor units; zero-decimal currencies pay only the percentage.

    A flat, currency-agnostic approximation of Stripe's US card pricing, so tests can assert exact
    `fee` and `net` values.
    """
    percentage = (amount * 29 + 500) // 1000
    return percentage if currency in ZERO_DECIMAL else percentage + 30


def format_amount(amount: int, currency: str) -> str:
    """`$0.50`-style text for error messages (minor units shown as decimals)."""
    if currency in ZERO_DECIMAL:
        return f"{amount} {currency}"
    if currency in THREE_DECIMAL:
        return f"{amount // 1000}.{amount % 1000:03d} {currency}"
    return f"{amount // 100}.{amount % 100:02d} {currency}"


def check_granularity(amount: int, currency: str) -> None:
    if currency in THREE_DECIMAL and amount % 10:
        raise invalid_request(
            f"Amounts in {currency} must be divisible by 10 (the last digit must be 0)",
            code="invalid_amount",
            param="amount",
        )


def check_currency(currency: str) -> str:
    normalized = currency.lower()
    if normalized not in MINIMUM_CHARGE:
        supported = ", ".join(sorted(MINIMUM_CHARGE))
        raise invalid_request(
            f"Invalid currency: {currency}. The emulator supports these currencies: {supported}",
            param="currency",
        )
    return normalized


def check_charge_amount(amount: int, currency: str) -> None:
    check_granularity(amount, currency)
    minimum = MINIMUM_CHARGE[currency]
    if amount < minimum:
        raise invalid_request(
            f"Amount must be at least {format_amount(minimum, currency)}",
            code="amount_too_small",
            param="amount",
        )
    if amount > MAXIMUM_CHARGE:
        raise invalid_request(
            f"Amount must be no more than {format_amount(MAXIMUM_CHARGE, currency)}",
            code="amount_too_large",
            param="amount",
        )
