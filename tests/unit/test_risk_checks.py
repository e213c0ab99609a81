"""The checks before Stripe (application/risk.py) on in-memory ports: each check's decision and reasons,
the strictest wins, every reason kept, what is asked of Stripe and the counters, and the external hook
with its timeout and on_failure."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from payments.application.ports import (
    Attempt,
    DayAmount,
    DayTotal,
    HookVerdict,
    Subject,
    VelocityHistory,
)
from payments.application.risk import RiskChecks, source_address, strictest
from payments.domain.card import Card
from payments.domain.errors import ProviderRejected, RiskHookFailed
from payments.domain.payment_method import StripePaymentMethod
from payments.domain.risk import CardFacts, RiskDecision, RiskReason, customer_reasons
from payments.domain.risk_rules import (
    AmountLimit,
    BlocklistEntry,
    BlocklistKind,
    CardTestingLimit,
    CardTestingRules,
    ExternalHook,
    ReviewRules,
    RiskRules,
    VelocityLimit,
    VelocityRules,
)

AT = "2030-01-01T00:00:00.000Z"
SAVED = CardFacts("fpSAVEDcard00001", "US")
ONE_OFF = StripePaymentMethod(
    "pm_1", "card", None, Card(fingerprint="fpONEOFFcard0001", country="DE"), "424242"
)


def entry(kind: BlocklistKind, value: str) -> BlocklistEntry:
    return BlocklistEntry(
        entry_id=f"blk_{kind.replace('_', '')}",
        kind=kind,
        value=value,
        reason="fraud ring",
        author="admin-1",
        created_at=AT,
    )


@dataclass
class Policy:
    rules_: RiskRules = field(default_factory=RiskRules)
    entries: list[BlocklistEntry] = field(default_factory=list)
    asked: list[dict[str, list[str]]] = field(default_factory=list)

    def rules(self) -> RiskRules:
        return self.rules_

    def blocklisted(self, candidates: Mapping[BlocklistKind, Iterable[str]], at: str) -> list[BlocklistEntry]:
        wanted = {kind: list(values) for kind, values in candidates.items()}
        self.asked.append(wanted)
        return [e for e in self.entries if e.value in wanted.get(e.kind, [])]


@dataclass
class Counters:
    """Each subject's history: `attempts` seen before this one, declines and cards, all in this minute."""

    attempts: dict[str, int] = field(default_factory=dict)
    declines: dict[str, int] = field(default_factory=dict)
    cards: dict[str, set[str]] = field(default_factory=dict)
    counted: list[dict[Subject, int]] = field(default_factory=list)
    day: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def count_attempt(
        self, windows: Mapping[Subject, int], card: str | None, at: str
    ) -> dict[Subject, VelocityHistory]:
        self.counted.append(dict(windows))
        histories = {}
        for subject in windows:
            self.attempts[subject.kind] = self.attempts.get(subject.kind, 0) + 1
            used = self.cards.setdefault(subject.kind, set())
            if card and subject.kind != "card":
                used.add(card)
            histories[subject] = VelocityHistory(
                minute=100,
                attempts={100: self.attempts[subject.kind]},
                declines={100: self.declines.get(subject.kind, 0)},
                cards={1: frozenset(used)},
            )
        return histories

    def add_to_day(self, amount: DayAmount, limit: int) -> DayTotal:
        key = (amount.customer_id, amount.day, amount.currency)
        total = self.day.get(key, 0)
        if total + amount.amount > limit:
            return DayTotal(False, total)
        self.day[key] = total + amount.amount
        return DayTotal(True, self.day[key])

    def record_decline(
        self, payment_id: str, subjects: Sequence[Subject], at: str, give_back: DayAmount | None
    ) -> bool:
        raise AssertionError("not in these tests")


@dataclass
class Methods:
    method: StripePaymentMethod | None = ONE_OFF
    reads: int = 0

    def retrieve_payment_method(self, payment_method_id: str) -> StripePaymentMethod:
        self.reads += 1
        if self.method is None:
            raise ProviderRejected("payment_method_invalid", "no such payment method")
        return self.method


@dataclass
class Hook:
    verdict: HookVerdict | None = None
    failure: Exception | None = None
    sleep: float = 0.0
    facts: list[Mapping[str, Any]] = field(default_factory=list)

    def assess(self, hook: ExternalHook, facts: Mapping[str, Any]) -> HookVerdict:
        self.facts.append(facts)
        time.sleep(self.sleep)
        if self.failure is not None:
            raise self.failure
        assert self.verdict is not None
        return self.verdict


def checks(
    rules: RiskRules | None = None,
    entries: Sequence[BlocklistEntry] = (),
    methods: Methods | None = None,
    hook: Hook | None = None,
    counters: Counters | None = None,
) -> RiskChecks:
    return RiskChecks(
        Policy(rules or RiskRules(), list(entries)),
        counters or Counters(),
        methods or Methods(),
        hook or Hook(),
    )


def attempt(amount: int = 2500, saved: CardFacts | None = SAVED, ip: str | None = "203.0.113.9") -> Attempt:
    return Attempt("pay_1", "cus_a", amount, "usd", "pm_1", ip, saved)


def codes(decision: RiskDecision) -> list[str]:
    return [r.code for r in decision.reasons]


# --------------------------------------------------------------------------- allow, and the facts


def test_nothing_to_say_allows_and_keeps_the_facts():
    counters = Counters()
    decision = checks(counters=counters).assess(attempt())
    assert decision.decision == "allow"
    assert decision.reasons == ()
    assert decision.facts is not None
    assert decision.facts.customer_id == "cus_a"
    assert decision.facts.source_ip == "203.0.113.9"
    assert decision.facts.card == SAVED
    # Counted for its customer, its card and its address, each read back over its longest window.
    (windows,) = counters.counted
    assert windows == {
        Subject("customer", "cus_a"): 86400,
        Subject("card", SAVED.fingerprint): 3600,
        Subject("ip", "203.0.113.9"): 86400,
    }


def test_the_strictest_decision_wins():
    reasons = [
        RiskReason("a", "x", "", "review"),
        RiskReason("b", "y", "", "allow"),
        RiskReason("c", "z", "", "block"),
    ]
    assert strictest(reasons) == "block"
    assert strictest(reasons[:2]) == "review"
    assert strictest([]) == "allow"


# --------------------------------------------------------------------------- blocklists


@pytest.mark.parametrize(
    ("blocked", "code"),
    [
        (entry("customer", "cus_a"), "blocked_customer"),
        (entry("card_fingerprint", SAVED.fingerprint or ""), "blocked_card_fingerprint"),
        (entry("issuing_country", "US"), "blocked_issuing_country"),
    ],
)
def test_a_blocklisted_customer_or_saved_card_blocks_without_asking_stripe(blocked, code):
    methods = Methods()
    decision = checks(entries=[blocked], methods=methods).assess(attempt())
    assert decision.decision == "block"
    assert code in codes(decision)
    (reason,) = [r for r in decision.reasons if r.code == code]
    assert reason.check == "blocklist"
    assert blocked.entry_id in reason.message
    assert methods.reads == 0


def test_a_blocked_customer_paying_with_a_one_off_method_costs_no_request_to_stripe():
    methods = Methods()
    policy_entries = [entry("customer", "cus_a")]
    decision = checks(entries=policy_entries, methods=methods).assess(attempt(saved=None))
    assert decision.decision == "block"
    assert methods.reads == 0
    assert decision.facts is not None
    assert decision.facts.card is None


def test_a_one_off_card_is_read_from_stripe_and_blocklisted_by_fingerprint_bin_and_country():
    methods = Methods()
    check = checks(entries=[entry("card_bin", "424242")], methods=methods)
    decision = check.assess(attempt(saved=None))
    assert methods.reads == 1
    assert decision.decision == "block"
    assert codes(decision) == ["blocked_card_bin"]
    assert decision.facts is not None
    assert decision.facts.card == CardFacts("fpONEOFFcard0001", "DE", "424242")
    # The customer first (no Stripe read needed), then the card Stripe described.
    first, second = check.policy.asked  # type: ignore[attr-defined]
    assert first == {"customer": ["cus_a"]}
    assert second == {
        "card_fingerprint": ["fpONEOFFcard0001"],
        "card_bin": ["424242"],
        "issuing_country": ["DE"],
    }


def test_an_eight_digit_bin_is_asked_by_both_of_its_prefixes():
    methods = Methods(
        StripePaymentMethod("pm_1", "card", None, Card(fingerprint="fpEIGHTdigitbin1"), "42424242")
    )
    check = checks(entries=[entry("card_bin", "42424242")], methods=methods)
    assert check.assess(attempt(saved=None)).decision == "block"
    assert check.policy.asked[-1]["card_bin"] == ["424242", "42424242"]  # type: ignore[attr-defined]


def test_stripe_without_the_bin_leaves_the_bin_blocklist_unasked():
    methods = Methods(StripePaymentMethod("pm_1", "card", None, Card(fingerprint="fpNObin000000001"), None))
    check = checks(entries=[entry("card_bin", "424242")], methods=methods)
    assert check.assess(attempt(saved=None)).decision == "allow"
    assert "card_bin" not in check.policy.asked[-1]  # type: ignore[attr-defined]


def test_a_method_stripe_does_not_know_is_left_to_stripe_to_refuse():
    decision = checks(methods=Methods(None)).assess(attempt(saved=None))
    assert decision.decision == "allow"
    assert decision.facts is not None
    assert decision.facts.card is None


# --------------------------------------------------------------------------- amounts and review rules


def limits(per_payment: int = 10_000, per_day: int = 20_000) -> dict[str, AmountLimit]:
    return {"usd": AmountLimit(max_per_payment=per_payment, max_per_customer_per_day=per_day)}


def test_an_amount_over_the_payment_limit_blocks_and_adds_nothing_to_the_day():
    counters = Counters()
    decision = checks(RiskRules(amount_limits=limits()), counters=counters).assess(attempt(10_001))
    assert decision.decision == "block"
    assert codes(decision) == ["amount_over_payment_limit"]
    assert counters.day == {}
    assert decision.facts is not None
    assert decision.facts.day_total is None


def test_the_day_total_takes_amounts_up_to_its_limit_then_blocks():
    counters = Counters()
    check = checks(RiskRules(amount_limits=limits()), counters=counters)
    first, second, third = (check.assess(attempt(10_000)) for _ in range(3))
    assert first.decision == second.decision == "allow"
    assert first.facts is not None
    assert first.facts.day_total is not None  # the UTC day whose total holds it
    assert len(first.facts.day_total) == len("2030-01-01")
    assert third.decision == "block"
    assert codes(third) == ["amount_over_day_limit"]
    assert "20000" in third.reasons[0].message
    assert third.facts is not None
    assert third.facts.day_total is None  # nothing of it is in the day's total
    assert sum(counters.day.values()) == 20_000


def test_a_currency_without_limits_has_none():
    decision = checks(RiskRules(amount_limits=limits())).assess(
        Attempt("pay_1", "cus_a", 99_999_999, "eur", "pm_1", None, SAVED)
    )
    assert decision.decision == "allow"


def test_review_rules_ask_for_a_review_with_their_reasons():
    rules = RiskRules(review=ReviewRules(review_above_amount={"usd": 2000}, review_countries=["US"]))
    decision = checks(rules).assess(attempt(2001))
    assert decision.decision == "review"
    assert codes(decision) == ["review_above_amount", "review_issuing_country"]
    assert {r.decision for r in decision.reasons} == {"review"}


def test_a_block_outranks_a_review_and_keeps_both_reasons():
    rules = RiskRules(review=ReviewRules(review_countries=["US"]), amount_limits=limits(per_payment=100))
    decision = checks(rules).assess(attempt(2500))
    assert decision.decision == "block"
    assert codes(decision) == ["amount_over_payment_limit", "review_issuing_country"]


# --------------------------------------------------------------------------- velocity and card testing


def tight_velocity(attempts: int = 2, declines: int = 2) -> VelocityRules:
    limit = VelocityLimit(max_attempts=attempts, max_declines=declines, window_seconds=600)
    return VelocityRules(customer=limit, card_fingerprint=limit, source_ip=limit)


def test_the_attempt_after_the_limit_is_blocked_per_customer_card_and_address():
    check = checks(RiskRules(velocity=tight_velocity(attempts=2)))
    assert [check.assess(attempt()).decision for _ in range(3)] == ["allow", "allow", "block"]
    assert codes(check.assess(attempt())) == [
        "too_many_attempts_per_customer",
        "too_many_attempts_per_card_fingerprint",
        "too_many_attempts_per_source_ip",
    ]


def test_declines_at_their_limit_block_the_next_attempt():
    counters = Counters(declines={"customer": 2})
    decision = checks(RiskRules(velocity=tight_velocity(declines=2)), counters=counters).assess(attempt())
    assert decision.decision == "block"
    assert "too_many_declines_per_customer" in codes(decision)
    assert "too_many_declines_per_card_fingerprint" not in codes(decision)


def test_card_testing_many_declines_from_one_address():
    testing = CardTestingLimit(max_declines=3, max_distinct_cards=50, window_seconds=3600)
    rules = RiskRules(card_testing=CardTestingRules(customer=testing, source_ip=testing))
    decision = checks(rules, counters=Counters(declines={"ip": 3})).assess(attempt())
    assert decision.decision == "block"
    assert [r.code for r in decision.reasons if r.check == "card_testing"] == [
        "card_testing_declines_per_source_ip"
    ]


def test_card_testing_many_distinct_cards_for_one_customer_and_address():
    testing = CardTestingLimit(max_declines=50, max_distinct_cards=2, window_seconds=3600)
    rules = RiskRules(card_testing=CardTestingRules(customer=testing, source_ip=testing))
    counters = Counters()
    check = checks(rules, counters=counters)
    decisions = [check.assess(attempt(saved=CardFacts(f"fpCARD{n:010d}", "US"))).decision for n in range(3)]
    assert decisions == ["allow", "allow", "block"]
    assert [r.code for r in check.assess(attempt(saved=CardFacts("fpCARD0000000009"))).reasons] == [
        "card_testing_cards_per_customer",
        "card_testing_cards_per_source_ip",
    ]


def test_without_a_source_address_only_the_customer_and_card_are_counted():
    counters = Counters()
    checks(counters=counters).assess(attempt(ip="not an address"))
    assert {s.kind for s in counters.counted[0]} == {"customer", "card"}


def test_source_addresses_are_counted_as_addresses_and_ipv6_by_its_64():
    assert source_address(" 203.0.113.9 ") == "203.0.113.9"
    assert source_address("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert source_address("2001:db8:1:2:bbbb::7") == "2001:db8:1:2::/64"
    assert source_address("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    for bad in (None, "", "localhost", "1.2.3", "203.0.113.9, 10.0.0.1"):
        assert source_address(bad) is None


def test_a_velocity_window_counts_whole_minutes_ending_with_the_attempt():
    history = VelocityHistory(
        minute=1000,
        attempts={1000: 2, 999: 1, 990: 4, 900: 8},
        declines={995: 1},
        cards={16: frozenset({"a", "b"}), 15: frozenset({"b", "c"}), 14: frozenset({"d"})},
    )
    assert history.attempts_within(60) == 2
    assert history.attempts_within(61) == 3  # two minutes
    assert history.attempts_within(600) == 3  # minutes 991..1000
    assert history.attempts_within(660) == 3 + 4  # and 990
    assert history.declines_within(300) == 0
    assert history.declines_within(360) == 1
    assert history.cards_within(3600) == 2  # the attempt's hour (minute 1000 is in hour 16)
    assert history.cards_within(7200) == 3
    assert history.cards_within(3 * 3600) == 4


# --------------------------------------------------------------------------- the external hook


def hooked(hook: Hook, on_failure: str = "review", timeout_ms: int = 1000) -> RiskChecks:
    rules = RiskRules(
        external_hook=ExternalHook(function_name="risk-scorer", timeout_ms=timeout_ms, on_failure=on_failure)
    )
    return checks(rules, hook=hook)


@pytest.mark.parametrize("verdict", ["allow", "review", "block"])
def test_the_external_hook_decides(verdict):
    reasons = (RiskReason("external", "score_high", "score 97"),) if verdict != "allow" else ()
    hook = Hook(HookVerdict(verdict, reasons))
    decision = hooked(hook).assess(attempt())
    assert decision.decision == verdict
    (reason,) = decision.reasons
    assert reason.check == "external"
    assert reason.decision == verdict
    assert reason.code == ("score_high" if verdict != "allow" else "external_allow")
    (facts,) = hook.facts
    assert facts["payment_id"] == "pay_1"
    assert facts["card"] == {"fingerprint": SAVED.fingerprint, "country": "US", "bin": None}
    assert facts["checks"] == {"decision": "allow", "reasons": []}
    assert "number" not in str(facts)


@pytest.mark.parametrize(
    ("on_failure", "decision"), [("allow", "allow"), ("block", "block"), ("review", "review")]
)
def test_a_hook_that_misses_its_timeout_counts_as_on_failure(on_failure, decision):
    hook = Hook(HookVerdict("allow", ()), sleep=3.0)
    started = time.monotonic()
    result = hooked(hook, on_failure=on_failure, timeout_ms=50).assess(attempt())
    assert time.monotonic() - started < 2.0  # the wait is bounded here, whatever the hook does
    assert result.decision == decision
    (reason,) = result.reasons
    assert reason.code == "external_timeout"
    assert reason.decision == decision


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (RiskHookFailed("error", "the hook's function failed (Unhandled)"), "external_error"),
        (RiskHookFailed("bad_answer", "the answer is not a verdict"), "external_bad_answer"),
        (RiskHookFailed("timeout", "no answer within 1000 ms"), "external_timeout"),
        (ValueError("anything else"), "external_error"),
    ],
)
def test_fail_open_and_fail_closed(failure, code):
    opened = hooked(Hook(failure=failure), on_failure="allow").assess(attempt())
    closed = hooked(Hook(failure=failure), on_failure="block").assess(attempt())
    assert (opened.decision, closed.decision) == ("allow", "block")
    assert codes(opened) == codes(closed) == [code]


def test_the_hook_is_not_asked_once_a_check_blocked():
    hook = Hook(HookVerdict("allow", ()))
    rules = RiskRules(
        external_hook=ExternalHook(function_name="risk-scorer"), amount_limits=limits(per_payment=100)
    )
    assert checks(rules, hook=hook).assess(attempt(2500)).decision == "block"
    assert hook.facts == []


# --------------------------------------------------------------------------- what the customer is told


def test_the_customer_is_told_what_they_can_act_on_and_nothing_of_lists_or_rules():
    blocked = RiskDecision(
        "block",
        (
            RiskReason("blocklist", "blocked_card_fingerprint", "blocklist entry blk_1: fraud ring", "block"),
            RiskReason("velocity", "too_many_attempts_per_source_ip", "attempt 51 in 3600 s", "block"),
            RiskReason("card_testing", "card_testing_cards_per_customer", "5 cards", "block"),
            RiskReason("review_rules", "review_issuing_country", "the card was issued in NG", "review"),
        ),
    )
    told = customer_reasons(blocked)
    assert [code for code, _ in told] == ["declined_by_risk_checks", "too_many_attempts"]
    assert "blk_1" not in str(told)
    assert "fraud ring" not in str(told)
    assert customer_reasons(RiskDecision("review", blocked.reasons[3:])) == (
        ("under_review", "The payment is authorized and being reviewed before it is captured"),
    )
    assert customer_reasons(RiskDecision("allow")) == ()
