"""Stripe's test PaymentMethod ids (`pm_card_visa`, ...) and how each one behaves.

Using one of these ids anywhere a PaymentMethod is accepted creates a new `pm_...` object copied
from the template, exactly as Stripe does; the behaviour (decline, 3-D Secure, dispute, pending
refund) follows the card, so it is looked up again from the PaymentMethod's template key.

Stripe's testing docs say the declining cards "can't be attached to a Customer object": attaching
one fails with the same card error a charge would, and `pm_card_chargeCustomerFail` is the card
that attaches and then declines.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import string
from dataclasses import dataclass

from .ids import random_token
from .model import Obj

# Any fixed future date; Stripe's test cards accept every future expiry.
EXP_MONTH = 12
EXP_YEAR = datetime.date.today().year + 5


@dataclass(frozen=True)
class Decline:
    code: str  # the error `code`: card_declined, expired_card, incorrect_cvc...
    decline_code: str
    message: str  # shown to the customer
    seller_message: str  # charge.outcome.seller_message
    network_status: str = "declined_by_network"
    outcome_type: str = "issuer_declined"
    risk_level: str = "normal"
    param: str | None = None  # the card field an attach error names (exp_month, cvc)


@dataclass(frozen=True)
class TestCard:
    brand: str
    last4: str
    funding: str = "credit"
    country: str = "US"
    decline: Decline | None = None
    requires_authentication: bool = False  # 3-D Secure challenge on every on-session payment and setup
    # Off-session payments need no authentication once the card was set up for them (a SetupIntent or a
    # payment with setup_future_usage=off_session, authenticated); otherwise they decline.
    off_session_once_set_up: bool = False
    disputes: bool = False  # a dispute opens as soon as the charge is captured
    refunds_pending: bool = False  # refunds stay `pending` until settled or failed
    attachable: bool = True  # False: attaching to a customer fails with the card's decline
    risk_level: str = "normal"  # Radar's assessment of its charges (resources/radar.py)
    early_fraud_warning: bool = False  # the issuer reports fraud as soon as the charge is captured

    def attach_error(self) -> Decline | None:
        """The decline attaching this card fails with, if it cannot be attached."""
        return None if self.attachable else self.decline


def _issuer_decline(code: str, decline_code: str, message: str, param: str | None = None) -> Decline:
    return Decline(
        code=code,
        decline_code=decline_code,
        message=message,
        seller_message=f"The bank returned the decline code `{decline_code}`.",
        param=param,
    )


GENERIC_DECLINE = Decline(
    code="card_declined",
    decline_code="generic_decline",
    message="Your card was declined.",
    seller_message="The bank did not return any further details with this decline.",
)

# What an off-session payment on a card that always asks for 3-D Secure fails with.
AUTHENTICATION_REQUIRED = Decline(
    code="authentication_required",
    decline_code="authentication_required",
    message="Your card was declined. This transaction requires authentication.",
    seller_message="The bank returned the decline code `authentication_required`.",
)

# 4100 0000 0000 0019: "always blocked regardless of your rules", by Stripe's fraud screening before
# the issuer sees it.
RADAR_BLOCK = TestCard(
    "visa",
    "0019",
    decline=Decline(
        code="card_declined",
        decline_code="fraudulent",
        message="Your card was declined.",
        seller_message="Stripe blocked this payment as too risky.",
        network_status="not_sent_to_network",
        outcome_type="blocked",
        risk_level="highest",
    ),
    attachable=False,
    risk_level="highest",
)

CATALOG: dict[str, TestCard] = {
    "pm_card_visa": TestCard("visa", "4242"),
    "pm_card_visa_debit": TestCard("visa", "5556", funding="debit"),
    "pm_card_mastercard": TestCard("mastercard", "4444"),
    "pm_card_amex": TestCard("amex", "0005"),
    "pm_card_chargeDeclined": TestCard("visa", "0002", decline=GENERIC_DECLINE, attachable=False),
    "pm_card_chargeDeclinedInsufficientFunds": TestCard(
        "visa",
        "9995",
        decline=_issuer_decline("card_declined", "insufficient_funds", "Your card has insufficient funds."),
        attachable=False,
    ),
    "pm_card_chargeDeclinedExpiredCard": TestCard(
        "visa",
        "0069",
        decline=_issuer_decline("expired_card", "expired_card", "Your card has expired.", "exp_month"),
        attachable=False,
    ),
    "pm_card_chargeDeclinedIncorrectCvc": TestCard(
        "visa",
        "0127",
        decline=_issuer_decline(
            "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.", "cvc"
        ),
        attachable=False,
    ),
    "pm_card_chargeDeclinedProcessingError": TestCard(
        "visa",
        "0119",
        decline=_issuer_decline(
            "processing_error",
            "processing_error",
            "An error occurred while processing your card. Try again in a little bit.",
        ),
        attachable=False,
    ),
    "pm_card_chargeDeclinedFraudulent": RADAR_BLOCK,
    # The same card under the name Stripe's fraud-prevention testing table gives it.
    "pm_card_radarBlock": RADAR_BLOCK,
    # Radar's test cards (docs.stripe.com/radar/testing): 4000 0000 0000 9235, 4000 0000 0000 4954.
    "pm_card_riskLevelElevated": TestCard("visa", "9235", risk_level="elevated"),
    "pm_card_riskLevelHighest": TestCard("visa", "4954", risk_level="highest"),
    # 4000 0000 0000 5423: "charge succeeds, only to receive an early fraud warning".
    "pm_card_createIssuerFraudRecord": TestCard("visa", "5423", early_fraud_warning=True),
    # 4000 0000 0000 0341: "Attaching this card to a Customer object succeeds, but attempts to charge
    # the customer fail."
    "pm_card_chargeCustomerFail": TestCard("visa", "0341", decline=GENERIC_DECLINE),
    # 4000 0027 6000 3184: "requires authentication on all transactions, regardless of how the card is
    # set up"; off-session it declines with authentication_required.
    "pm_card_authenticationRequired": TestCard("visa", "3184", requires_authentication=True),
    # 4000 0025 0000 3155: "requires authentication for one-time payments. However, if you set up this
    # card and use the saved card for subsequent off-session payments, no further authentication is
    # needed."
    "pm_card_authenticationRequiredOnSetup": TestCard(
        "visa", "3155", requires_authentication=True, off_session_once_set_up=True
    ),
    "pm_card_createDispute": TestCard("visa", "0259", disputes=True),
    "pm_card_refundFail": TestCard("visa", "5126", refunds_pending=True),
}


# Test ids that name the same card number share its fingerprint.
_SAME_CARD = {"pm_card_radarBlock": "pm_card_chargeDeclinedFraudulent"}


def fingerprint(template: str) -> str:
    """Stable per card number, like Stripe's (same test card -> same fingerprint)."""
    template = _SAME_CARD.get(template, template)
    digest = base64.b64encode(hashlib.sha256(f"stripe-emulator:{template}".encode()).digest()).decode()
    return "".join(char for char in digest if char.isalnum())[:16]


def card_hash(template: str) -> Obj:
    """The `card` hash of a PaymentMethod made from a test id."""
    card = CATALOG[template]
    return {
        "brand": card.brand,
        "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
        "country": card.country,
        "display_brand": card.brand,
        "exp_month": EXP_MONTH,
        "exp_year": EXP_YEAR,
        "fingerprint": fingerprint(template),
        "funding": card.funding,
        "generated_from": None,
        "last4": card.last4,
        "networks": {"available": [card.brand], "preferred": None},
        "regulated_status": "unregulated",
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }


def network_reference() -> str:
    """An acquirer reference number, as shown on card refunds."""
    return random_token(23, string.digits)
