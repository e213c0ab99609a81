"""The risk rules and the blocklist ops change without a deploy: what the pre-authorization checks
(application/risk.py) apply. Pure data with its validation; storage, caching and the admin API live
in the adapters and the use cases.

`RiskRules()` are the defaults a fresh stack runs with until an admin stores its own (version 0).
Money is in minor units per lower-case ISO 4217 currency; a currency without an entry has no limit of
ours (Stripe's maximum still applies).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from payments.domain.money import SUPPORTED
from payments.domain.risk import Decision

MAX_WINDOW_SECONDS = 7 * 24 * 3600
# A held payment is canceled when its review is not decided in time: before the authorization of a
# customer-initiated online card payment expires at Stripe (7 days), with a day's margin.
MAX_REVIEW_HOLD_HOURS = 6 * 24
MAX_LIMIT = 1_000_000  # attempts, declines, cards: anything above is no limit at all
MAX_MONEY_LIMIT = 10**12  # minor units; a day's total may exceed one charge's maximum

WindowSeconds = Annotated[
    StrictInt, Field(gt=0, le=MAX_WINDOW_SECONDS, description="Sliding window, seconds")
]
Limit = Annotated[StrictInt, Field(gt=0, le=MAX_LIMIT)]
MoneyLimit = Annotated[StrictInt, Field(gt=0, le=MAX_MONEY_LIMIT, description="Minor units")]


def _currency(value: str) -> str:
    if value not in SUPPORTED:
        raise ValueError("must be a supported ISO 4217 currency code in lower case, e.g. usd")
    return value


_COUNTRY = re.compile(r"[A-Z]{2}")
_COUNTRY_FORM = "an ISO 3166-1 alpha-2 country code in upper case, e.g. US"


def _country(value: str) -> str:
    if not _COUNTRY.fullmatch(value):
        raise ValueError(f"must be {_COUNTRY_FORM}")
    return value


Currency = Annotated[str, AfterValidator(_currency)]
Country = Annotated[str, AfterValidator(_country)]


class StrictModel(BaseModel):
    # Built on first use, like the event models (payments.domain.events).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class VelocityLimit(StrictModel):
    """At most `max_attempts` payment attempts and `max_declines` declines per `window_seconds`."""

    max_attempts: Limit
    max_declines: Limit
    window_seconds: WindowSeconds


class VelocityRules(StrictModel):
    customer: VelocityLimit = VelocityLimit(max_attempts=20, max_declines=5, window_seconds=3600)
    card_fingerprint: VelocityLimit = VelocityLimit(max_attempts=10, max_declines=4, window_seconds=3600)
    source_ip: VelocityLimit = VelocityLimit(max_attempts=50, max_declines=10, window_seconds=3600)


class CardTestingLimit(StrictModel):
    """Card testing: many declines, or many distinct cards, from one customer or one IP address."""

    max_declines: Limit
    max_distinct_cards: Limit
    window_seconds: WindowSeconds


class CardTestingRules(StrictModel):
    customer: CardTestingLimit = CardTestingLimit(max_declines=5, max_distinct_cards=4, window_seconds=86400)
    source_ip: CardTestingLimit = CardTestingLimit(
        max_declines=10, max_distinct_cards=8, window_seconds=86400
    )


class AmountLimit(StrictModel):
    max_per_payment: MoneyLimit
    max_per_customer_per_day: MoneyLimit  # the UTC day's total of the customer's payments

    @field_validator("max_per_customer_per_day")
    @classmethod
    def _day_covers_one_payment(cls, day: int, info: ValidationInfo) -> int:
        if day < info.data.get("max_per_payment", 0):
            raise ValueError("must be at least max_per_payment")
        return day


class ReviewRules(StrictModel):
    """What sends a payment to review (held, authorized only, until an admin decides) rather than
    through or to a block."""

    review_above_amount: dict[Currency, MoneyLimit] = Field(
        default_factory=dict, description="Per currency: a payment above this amount is reviewed"
    )
    review_countries: list[Country] = Field(
        default_factory=list, max_length=250, description="Cards issued in these countries are reviewed"
    )
    review_hold_hours: Annotated[StrictInt, Field(gt=0, le=MAX_REVIEW_HOLD_HOURS)] = Field(
        24, description="A review not decided within this many hours cancels the payment"
    )


# A Lambda function's name, or its (partial) ARN, optionally with a version or alias.
FunctionName = Annotated[
    str,
    StringConstraints(
        pattern=r"^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:)?[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?$",
        max_length=170,
    ),
]


class ExternalHook(StrictModel):
    """An external risk service, a Lambda function asked with the payment's facts before authorization."""

    function_name: FunctionName
    timeout_ms: Annotated[StrictInt, Field(ge=1, le=5000)] = 1000
    on_failure: Decision = "review"  # what an error, a timeout or a bad answer counts as


class RiskRules(StrictModel):
    version: Annotated[StrictInt, Field(ge=0)] = Field(
        0, description="0: the defaults, never stored; each stored change adds one"
    )
    velocity: VelocityRules = VelocityRules()
    card_testing: CardTestingRules = CardTestingRules()
    amount_limits: dict[Currency, AmountLimit] = Field(default_factory=dict)
    review: ReviewRules = ReviewRules()
    external_hook: ExternalHook | None = None
    # What an actionable early fraud warning does to its charge: refund it, or only tell the back office.
    early_fraud_warning: Literal["refund", "notify"] = "refund"


# --------------------------------------------------------------------------- blocklist

BlocklistKind = Literal["card_fingerprint", "card_bin", "issuing_country", "customer"]

# Stripe documents a card fingerprint as an opaque alphanumeric string (16 characters in practice).
_VALUE_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    "card_fingerprint": (re.compile(r"[A-Za-z0-9]{16}"), "a Stripe card fingerprint: 16 letters or digits"),
    "card_bin": (re.compile(r"[0-9]{6}|[0-9]{8}"), "a card BIN: the card number's first 6 or 8 digits"),
    "issuing_country": (_COUNTRY, _COUNTRY_FORM),
    # Our customer ids are the callers' Cognito subs (or the id an admin pays for): 1 to 128 characters
    # (see ProcessPaymentRequest.customer_id), here without whitespace or control characters.
    "customer": (
        re.compile(r"[^\s\x00-\x1f\x7f]{1,128}"),
        "a customer id: 1 to 128 characters, no whitespace",
    ),
}


def blocklist_value_problem(kind: str, value: str) -> str | None:
    """Why `value` cannot be a blocklist value of `kind` (None: it can)."""
    pattern, expected = _VALUE_FORMATS[kind]
    return None if pattern.fullmatch(value) else f"must be {expected}"


def _utc_timestamp(value: str) -> str:
    """An RFC 3339 time with its offset, as the clock writes it (UTC, milliseconds): sortable as text."""
    try:
        moment = datetime.fromisoformat(value)
        utc = moment.astimezone(UTC) if moment.tzinfo is not None and "T" in value else None
    except (ValueError, OverflowError):  # overflow: the first or last day of year 1 or 9999, shifted
        utc = None
    if utc is None:
        raise ValueError("must be an RFC 3339 date and time with its offset, e.g. 2030-01-31T00:00:00Z")
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[str, StringConstraints(max_length=40), AfterValidator(_utc_timestamp)]


BlocklistEntryId = Annotated[str, StringConstraints(pattern=r"^blk_[a-z0-9]{1,64}$")]


class BlocklistEntry(StrictModel):
    entry_id: BlocklistEntryId
    kind: BlocklistKind
    value: str
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    author: str  # the admin's sub
    created_at: Timestamp
    expires_at: Timestamp | None = None  # None: until removed

    @field_validator("value")
    @classmethod
    def _fits_kind(cls, value: str, info: ValidationInfo) -> str:
        problem = "kind" in info.data and blocklist_value_problem(info.data["kind"], value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("expires_at")
    @classmethod
    def _after_creation(cls, expires_at: str | None, info: ValidationInfo) -> str | None:
        if expires_at is not None and expires_at <= info.data.get("created_at", ""):
            raise ValueError("must be after created_at")
        return expires_at

    def active_at(self, at: str) -> bool:
        """Still in force at `at` (an RFC 3339 UTC timestamp, compared as text like every timestamp)."""
        return self.expires_at is None or self.expires_at > at


# --------------------------------------------------------------------------- audit

AuditAction = Literal["rules_replaced", "blocklist_entry_added", "blocklist_entry_removed"]


class AuditRecord(StrictModel):
    """One change of the rules or the blocklist: who, when, and the thing before and after it."""

    change_id: str  # derived from the request's Idempotency-Key: a retry finds its own change
    action: AuditAction
    subject: str  # "rules", or the blocklist entry's id
    author: str  # the admin's sub
    at: Timestamp
    before: dict[str, Any] | None = None  # None: there was none (an entry added)
    after: dict[str, Any] | None = None  # None: there is none (an entry removed)
