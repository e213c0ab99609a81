"""Checks before Stripe (docs/risk.md): a chain of checks, each asking to allow, review or block the
payment with its reasons; the strictest wins and every reason is kept on the payment's risk.

The chain, in this order:
1. blocklists: the customer, and a saved card's fingerprint, BIN and issuing country (our own record
   of the card), through the rules' RiskPolicy;
2. a one-off payment method's card, read from Stripe (a GET, never a charge), then blocklisted: only
   when nothing blocked yet, so a blocked customer or a blocklisted saved card costs no request to
   Stripe at all;
3. amount limits per payment, and the review rules (amount above, issuing countries);
4. velocity and card testing: the attempt is counted for its customer, card and source address
   (atomic counters), then each limit is compared with its window;
5. the external hook, if the rules name one and nothing blocked yet: its verdict, or its `on_failure`
   when it fails or misses its `timeout_ms`;
6. the customer's total of the day, if nothing blocked: the amount is added only while the total stays
   within the limit (a blocked payment adds nothing).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from payments.application.clock import now
from payments.application.ports import (
    Attempt,
    DayAmount,
    ExternalRiskHook,
    HookVerdict,
    PaymentMethodGateway,
    RiskPolicy,
    Subject,
    VelocityCounters,
    VelocityHistory,
    VelocityKind,
)
from payments.application.process_payment import INVALID_REQUEST_FAILURES
from payments.domain.errors import ProviderRejected, RiskHookFailed
from payments.domain.payment import Payment, PaymentStatus
from payments.domain.risk import BLOCKED_CODE, CardFacts, Decision, RiskDecision, RiskFacts, RiskReason
from payments.domain.risk_rules import BlocklistKind, CardTestingLimit, ExternalHook, RiskRules, VelocityLimit

logger = logging.getLogger(__name__)
_RANK: dict[Decision, int] = {"allow": 0, "review": 1, "block": 2}
# Failures that are not a card's answer: nothing to count as a decline.
NOT_DECLINES = frozenset({BLOCKED_CODE, *INVALID_REQUEST_FAILURES})
# What the counters call each subject, and what the rules call it.
_RULE_NAMES: dict[VelocityKind, str] = {"customer": "customer", "card": "card_fingerprint", "ip": "source_ip"}


def strictest(reasons: Iterable[RiskReason]) -> Decision:
    return max((r.decision or "allow" for r in reasons), key=_RANK.__getitem__, default="allow")


def _blocks(reasons: Iterable[RiskReason]) -> bool:
    return strictest(reasons) == "block"


@dataclass
class RiskChecks:
    """The PreAuthorization port over the rules, the counters, Stripe (one-off cards) and the hook."""

    policy: RiskPolicy
    velocity: VelocityCounters
    methods: PaymentMethodGateway
    hook: ExternalRiskHook

    def assess(self, attempt: Attempt) -> RiskDecision:
        at = now()
        rules = self.policy.rules()
        card = attempt.saved_card
        reasons = self._blocklisted(at, customer=attempt.customer_id, card=card)
        if card is None and not _blocks(reasons):
            card = self._card_of(attempt.payment_method_id)
            if card is not None:
                reasons += self._blocklisted(at, card=card)
        reasons += amount_checks(rules, attempt) + review_checks(rules, attempt, card)
        subjects = subjects_of(attempt.customer_id, attempt.source_ip, card)
        histories = self.velocity.count_attempt(
            windows(rules, subjects), card.fingerprint if card else None, at
        )
        reasons += velocity_checks(rules, histories) + card_testing_checks(rules, histories)
        if rules.external_hook is not None and not _blocks(reasons):
            reasons += self._external(rules.external_hook, attempt, card, reasons)
        day = None
        if not _blocks(reasons):
            day, refused = self._add_to_day(rules, attempt, at)
            reasons += refused
        facts = RiskFacts(attempt.customer_id, attempt.source_ip, card, day)
        return RiskDecision(strictest(reasons), tuple(reasons), at, facts)

    def record_decline(self, payment: Payment) -> None:
        facts = payment.risk.decision.facts if payment.risk and payment.risk.decision else None
        if not declined(payment) or facts is None:
            return
        give_back = None
        if facts.day_total is not None:
            give_back = DayAmount(facts.customer_id, facts.day_total, payment.currency, payment.amount)
        subjects = subjects_of(facts.customer_id, facts.source_ip, facts.card)
        self.velocity.record_decline(payment.id, subjects, now(), give_back)

    # ------------------------------------------------------------------ steps that read or count

    def _add_to_day(self, rules: RiskRules, attempt: Attempt, at: str) -> tuple[str | None, list[RiskReason]]:
        """The UTC day whose total now holds the amount (None: no limit, or refused), and why not."""
        limit = rules.amount_limits.get(attempt.currency)
        if limit is None:
            return None, []
        day = at[:10]
        total = self.velocity.add_to_day(
            DayAmount(attempt.customer_id, day, attempt.currency, attempt.amount),
            limit.max_per_customer_per_day,
        )
        if total.accepted:
            return day, []
        return None, [
            RiskReason(
                "amount_limit",
                "amount_over_day_limit",
                f"the customer's {attempt.currency} total of {day} is {total.total}: {attempt.amount} more "
                f"exceeds {limit.max_per_customer_per_day}",
                "block",
            )
        ]

    def _blocklisted(
        self, at: str, *, customer: str | None = None, card: CardFacts | None = None
    ) -> list[RiskReason]:
        candidates: dict[BlocklistKind, list[str]] = {}
        if customer is not None:
            candidates["customer"] = [customer]
        if card is not None:
            if card.fingerprint:
                candidates["card_fingerprint"] = [card.fingerprint]
            if card.bin and len(card.bin) >= 6:
                candidates["card_bin"] = sorted({card.bin[:6], card.bin[:8]})
            if card.country:
                candidates["issuing_country"] = [card.country.upper()]
        if not candidates:
            return []
        return [
            RiskReason(
                "blocklist",
                f"blocked_{entry.kind}",
                f"blocklist entry {entry.entry_id}: {entry.reason}",
                "block",
            )
            for entry in self.policy.blocklisted(candidates, at)
        ]

    def _card_of(self, payment_method_id: str) -> CardFacts | None:
        """A one-off method's card, as Stripe describes it."""
        try:
            method = self.methods.retrieve_payment_method(payment_method_id)
        except ProviderRejected:
            return None  # no such method: Stripe refuses the payment itself, as for any bad method
        if method.card is None:
            return None
        return CardFacts(method.card.fingerprint, method.card.country, method.iin)

    def _external(
        self, hook: ExternalHook, attempt: Attempt, card: CardFacts | None, so_far: Sequence[RiskReason]
    ) -> list[RiskReason]:
        facts = hook_facts(attempt, card, so_far)
        try:
            verdict = _within(hook.timeout_ms / 1000, lambda: self.hook.assess(hook, facts))
        except Exception as error:  # a failure of any kind is what on_failure is for
            failure, detail = (
                (error.failure, error.detail)
                if isinstance(error, RiskHookFailed)
                else ("error", type(error).__name__)
            )
            logger.warning("external risk hook failed (%s): %s", failure, detail)
            return [
                RiskReason(
                    "external",
                    f"external_{failure}",
                    f"the external risk service failed ({detail}); on_failure: {hook.on_failure}",
                    hook.on_failure,
                )
            ]
        if not verdict.reasons:
            return [
                RiskReason(
                    "external",
                    f"external_{verdict.decision}",
                    "the external risk service decided so",
                    verdict.decision,
                )
            ]
        return [replace(reason, decision=verdict.decision) for reason in verdict.reasons]


# --------------------------------------------------------------------------- the checks (pure)


def amount_checks(rules: RiskRules, attempt: Attempt) -> list[RiskReason]:
    limit = rules.amount_limits.get(attempt.currency)
    if limit is None or attempt.amount <= limit.max_per_payment:
        return []
    return [
        RiskReason(
            "amount_limit",
            "amount_over_payment_limit",
            f"{attempt.amount} {attempt.currency} is over the limit of {limit.max_per_payment} per payment",
            "block",
        )
    ]


def review_checks(rules: RiskRules, attempt: Attempt, card: CardFacts | None) -> list[RiskReason]:
    reasons = []
    above = rules.review.review_above_amount.get(attempt.currency)
    if above is not None and attempt.amount > above:
        reasons.append(
            RiskReason(
                "review_rules",
                "review_above_amount",
                f"{attempt.amount} {attempt.currency} is above the review amount {above}",
                "review",
            )
        )
    country = card.country.upper() if card and card.country else None
    if country is not None and country in rules.review.review_countries:
        reasons.append(
            RiskReason(
                "review_rules", "review_issuing_country", f"the card was issued in {country}", "review"
            )
        )
    return reasons


def velocity_checks(rules: RiskRules, histories: Mapping[Subject, VelocityHistory]) -> list[RiskReason]:
    reasons = []
    for subject, history in histories.items():
        name = _RULE_NAMES[subject.kind]
        limit: VelocityLimit = getattr(rules.velocity, name)
        window = limit.window_seconds
        attempts, declines = history.attempts_within(window), history.declines_within(window)
        if attempts > limit.max_attempts:
            reasons.append(
                RiskReason(
                    "velocity",
                    f"too_many_attempts_per_{name}",
                    f"attempt {attempts} in {window} s for this {name}, at most {limit.max_attempts}",
                    "block",
                )
            )
        if declines >= limit.max_declines:
            reasons.append(
                RiskReason(
                    "velocity",
                    f"too_many_declines_per_{name}",
                    f"{declines} declines in {window} s for this {name}, at most {limit.max_declines}",
                    "block",
                )
            )
    return reasons


def card_testing_checks(rules: RiskRules, histories: Mapping[Subject, VelocityHistory]) -> list[RiskReason]:
    reasons = []
    for subject, history in histories.items():
        if subject.kind == "card":
            continue
        name = _RULE_NAMES[subject.kind]
        limit: CardTestingLimit = getattr(rules.card_testing, name)
        window = limit.window_seconds
        declines, cards = history.declines_within(window), history.cards_within(window)
        if declines >= limit.max_declines:
            reasons.append(
                RiskReason(
                    "card_testing",
                    f"card_testing_declines_per_{name}",
                    f"{declines} declines in {window} s for this {name}, at most {limit.max_declines}",
                    "block",
                )
            )
        if cards > limit.max_distinct_cards:
            reasons.append(
                RiskReason(
                    "card_testing",
                    f"card_testing_cards_per_{name}",
                    f"{cards} cards in {window} s for this {name}, at most {limit.max_distinct_cards}",
                    "block",
                )
            )
    return reasons


def windows(rules: RiskRules, subjects: Sequence[Subject]) -> dict[Subject, int]:
    """Each subject's longest window: how far back its counters are read."""
    longest: dict[Subject, int] = {}
    for subject in subjects:
        name = _RULE_NAMES[subject.kind]
        seconds = [getattr(rules.velocity, name).window_seconds]
        if subject.kind != "card":
            seconds.append(getattr(rules.card_testing, name).window_seconds)
        longest[subject] = max(seconds)
    return longest


def subjects_of(customer_id: str, source_ip: str | None, card: CardFacts | None) -> list[Subject]:
    subjects = [Subject("customer", customer_id)]
    if card is not None and card.fingerprint:
        subjects.append(Subject("card", card.fingerprint))
    address = source_address(source_ip)
    if address is not None:
        subjects.append(Subject("ip", address))
    return subjects


def source_address(source_ip: str | None) -> str | None:
    """What the counters count for a source IP: the address, or an IPv6 address's /64 (one customer's
    connection usually holds a whole /64). None for anything that is not an address."""
    try:
        address = ipaddress.ip_address((source_ip or "").strip())
    except ValueError:
        return None
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def hook_facts(attempt: Attempt, card: CardFacts | None, so_far: Sequence[RiskReason]) -> dict[str, Any]:
    """What the external hook is told: the payment, the card (never its number) and our checks so far."""
    return {
        "payment_id": attempt.payment_id,
        "customer_id": attempt.customer_id,
        "amount": attempt.amount,
        "currency": attempt.currency,
        "source_ip": attempt.source_ip,
        "saved_method": attempt.saved_card is not None,
        "card": None
        if card is None
        else {"fingerprint": card.fingerprint, "country": card.country, "bin": card.bin},
        "checks": {"decision": strictest(so_far), "reasons": [r.code for r in so_far]},
    }


def declined(payment: Payment) -> bool:
    """The payment failed because the card (or its holder, 3-D Secure) said no."""
    failure = payment.failure
    return payment.status is PaymentStatus.FAILED and failure is not None and failure.code not in NOT_DECLINES


@cache
def _hook_threads() -> ThreadPoolExecutor:
    # A function serves one request at a time; the spare threads hold calls that missed their time
    # until the adapter's own timeouts end them (a call waiting for a thread waits within its time).
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="risk-hook")


def _within(seconds: float, ask: Any) -> HookVerdict:
    """The hook's verdict, or RiskHookFailed("timeout") once `seconds` passed: the adapter's client
    timeouts bound each of its steps, this bounds the whole wait. A late answer is dropped."""
    future = _hook_threads().submit(ask)
    try:
        verdict: HookVerdict = future.result(timeout=seconds)
    except FutureTimeout:
        future.cancel()
        raise RiskHookFailed("timeout", f"no verdict within {int(seconds * 1000)} ms") from None
    return verdict
