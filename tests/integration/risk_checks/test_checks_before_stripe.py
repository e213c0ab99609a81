"""Checks before Stripe through the real handlers (moto, the Stripe emulator, the admin API): blocked
payments never reach Stripe and show why, velocity limits hold under racing requests, amount limits,
the card-testing guard, declines counted once, retries that neither check nor count again."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import boto3
import pytest

from infra.local.stripe_emulator.cards import fingerprint
from payments.domain.risk_rules import (
    AmountLimit,
    CardTestingLimit,
    CardTestingRules,
    VelocityLimit,
    VelocityRules,
)
from tests.integration.risk_checks.conftest import (
    admin,
    attempts_counted,
    block,
    history,
    pay,
    pay_body,
    save_card,
    use_rules,
    velocity_items,
)
from tests.support.api import call
from tests.support.bus import put_stripe_event
from tests.support.stripe_webhooks import emitted, intent_of

LOOSE = VelocityLimit(max_attempts=1000, max_declines=1000, window_seconds=3600)
NO_CARD_TESTING = CardTestingLimit(max_declines=1000, max_distinct_cards=1000, window_seconds=3600)


def only_customer_velocity(**limit: int) -> dict[str, Any]:
    customer = VelocityLimit(**{"max_attempts": 1000, "max_declines": 1000, "window_seconds": 3600, **limit})
    return {
        "velocity": VelocityRules(customer=customer, card_fingerprint=LOOSE, source_ip=LOOSE),
        "card_testing": CardTestingRules(customer=NO_CARD_TESTING, source_ip=NO_CARD_TESTING),
    }


def decision_of(payment_id: str) -> dict[str, Any]:
    response = admin("GET", f"/payments/{payment_id}")
    assert response.status == 200, response.body
    return dict(response.body["risk"]["decision"])


# --------------------------------------------------------------------------- blocklists


def test_a_blocklisted_saved_card_makes_no_request_to_stripe_and_the_payment_shows_why(
    aws, emulator, stripe_requests, bus
):
    saved = save_card("pm_card_visa")
    entry_id = block("card_fingerprint", saved["card"]["fingerprint"])
    bus.drain()
    before = len(stripe_requests)

    body = pay_body(payment_method_id=saved["id"])
    response = call("POST", "/payments", body=body, source_ip="203.0.113.9")

    assert response.status == 402, response.body
    problem = response.body
    assert (problem["code"], problem["reasons"]) == ("payment_blocked", ["declined_by_risk_checks"])
    assert len(stripe_requests) == before  # not one request to Stripe
    assert emulator.payment_intents() == []
    # The customer is told nothing of lists or entries; the back office sees every reason.
    for told in (problem, call("GET", f"/payments/{problem['payment_id']}").body):
        assert entry_id not in str(told)
        assert "fraud ring" not in str(told)
        assert saved["card"]["fingerprint"] not in str(told.get("risk") or "")
    mine = call("GET", f"/payments/{problem['payment_id']}").body
    assert (mine["status"], mine["failure"]["code"]) == ("failed", "payment_blocked")
    assert mine["risk"]["decision"]["reasons"] == [
        {"code": "declined_by_risk_checks", "message": "The payment cannot be accepted"}
    ]
    decision = decision_of(problem["payment_id"])
    assert decision["decision"] == "block"
    (reason,) = decision["reasons"]
    assert (reason["check"], reason["code"], reason["decision"]) == (
        "blocklist",
        "blocked_card_fingerprint",
        "block",
    )
    assert entry_id in reason["message"]
    assert decision["facts"]["card"]["fingerprint"] == saved["card"]["fingerprint"]
    assert decision["facts"]["source_ip"] == "203.0.113.9"
    # The attempt is in the history, with the decision; the customer's history is the customer's view.
    events = history(problem["payment_id"])
    assert [e["event_type"] for e in events] == ["PaymentInitiated", "PaymentBlocked"]
    assert all(
        e["data"]["risk"]["decision"]["reasons"][0]["code"] == "blocked_card_fingerprint" for e in events
    )
    assert entry_id not in str(history(problem["payment_id"], as_admin=False))
    published = [
        e["detail-type"] for e in bus.drain() if e["detail"].get("payment_id") == problem["payment_id"]
    ]
    assert published == ["PaymentInitiated", "PaymentBlocked"]
    # The order is free again: another card pays it.
    again = call("POST", "/payments", body={**body, "payment_method_id": "pm_card_mastercard"})
    assert again.status == 201, again.body


def test_a_blocked_customer_makes_no_request_to_stripe_even_with_a_one_off_card(
    aws, emulator, stripe_requests
):
    block("customer", "cus_alice")
    before = len(stripe_requests)
    response = pay(payment_method_id="pm_card_visa")
    assert response.status == 402, response.body
    assert response.body["code"] == "payment_blocked"
    assert len(stripe_requests) == before
    assert [r["code"] for r in decision_of(response.body["payment_id"])["reasons"]] == ["blocked_customer"]
    assert pay(sub="cus_bob").status == 201  # only that customer


def test_a_one_off_card_is_read_from_stripe_then_blocklisted(aws, emulator, stripe_requests):
    use_rules()  # the rules are read before the count starts
    start = len(stripe_requests)
    assert pay(payment_method_id="pm_card_visa").status == 201
    assert stripe_requests.paths()[start:] == [
        "GET /v1/payment_methods/pm_card_visa",  # the card's facts: never a charge
        "POST /v1/payment_intents",
    ]
    block("card_fingerprint", fingerprint("pm_card_visa"))
    start = len(stripe_requests)
    refused = pay(payment_method_id="pm_card_visa")
    assert refused.status == 402, refused.body
    assert stripe_requests.paths()[start:] == ["GET /v1/payment_methods/pm_card_visa"]
    assert len(emulator.payment_intents()) == 1


def test_a_bin_entry_applies_only_where_stripe_names_the_bin(aws, emulator):
    # Stripe documents card.iin as internal and does not return it in standard requests, nor does the
    # emulator: a BIN entry then cannot match (docs/risk.md says so), the card is not refused on a guess.
    block("card_bin", "424242")
    response = pay(payment_method_id="pm_card_visa")
    assert response.status == 201, response.body
    assert decision_of(response.body["id"])["facts"]["card"]["bin"] is None


def test_an_issuing_country_entry_blocks_cards_of_that_country(aws, emulator):
    block("issuing_country", "US")
    response = pay(payment_method_id="pm_card_visa")
    assert response.status == 402, response.body
    assert [r["code"] for r in decision_of(response.body["payment_id"])["reasons"]] == [
        "blocked_issuing_country"
    ]


# --------------------------------------------------------------------------- retries


def test_a_retry_of_a_blocked_request_answers_the_same_402_without_checking_or_counting_again(
    aws, emulator, stripe_requests
):
    block("customer", "cus_alice")
    first = pay(idempotency_key="blocked-key", order_id="order-blocked")
    assert first.status == 402
    counted = attempts_counted()
    requests_before = len(stripe_requests)

    replayed = pay(idempotency_key="blocked-key", order_id="order-blocked")
    assert (replayed.status, replayed.body) == (402, first.body)
    assert replayed.header("Idempotent-Replayed") == "true"

    # Once the idempotency record is gone, the payment itself answers: the same problem, from its
    # recorded decision.
    db = boto3.client("dynamodb")
    for item in db.scan(TableName="idempotency")["Items"]:
        db.delete_item(TableName="idempotency", Key={"id": item["id"]})
    again = pay(idempotency_key="blocked-key", order_id="order-blocked")
    assert (again.status, again.body) == (402, first.body)
    assert attempts_counted() == counted == 1
    assert len(stripe_requests) == requests_before
    assert [e["event_type"] for e in history(first.body["payment_id"])] == [
        "PaymentInitiated",
        "PaymentBlocked",
    ]


def test_a_retry_after_a_failure_between_the_checks_and_stripe_keeps_the_decision(aws, emulator):
    use_rules(**only_customer_velocity(max_attempts=1))
    emulator.inject_fault("POST", "/v1/payment_intents", "api_error")
    first = pay(idempotency_key="crash-key", order_id="order-crash")
    assert first.status >= 500, first.body  # not stored: the same key resumes
    assert attempts_counted() == 1
    (pending,) = [
        i for i in boto3.client("dynamodb").scan(TableName="payments")["Items"] if i["sk"]["S"] == "STATE"
    ]
    assert pending["status"]["S"] == "pending"

    # One attempt allowed: a retry that checked again would be the second, and blocked.
    retried = pay(idempotency_key="crash-key", order_id="order-crash")
    assert retried.status == 201, retried.body
    assert retried.body["status"] == "succeeded"
    assert attempts_counted() == 1
    assert len(emulator.payment_intents()) == 1
    assert pay().status == 402  # a new attempt is one too many


def test_a_review_decision_survives_the_retry_too(aws, emulator):
    use_rules(review={"review_above_amount": {"usd": 1000}})
    emulator.inject_fault("POST", "/v1/payment_intents", "api_error")
    assert pay(idempotency_key="crash-review", order_id="order-crash-review").status >= 500
    use_rules(review={})  # the rules changed since: the payment's decision was made already
    retried = pay(idempotency_key="crash-review", order_id="order-crash-review")
    assert retried.status == 201, retried.body
    assert (retried.body["status"], retried.body["capture_method"]) == ("requires_capture", "manual")
    assert retried.body["risk"]["review"]["status"] == "open"


# --------------------------------------------------------------------------- velocity


def test_the_attempt_after_the_limit_in_the_window_is_blocked(aws, emulator):
    use_rules(**only_customer_velocity(max_attempts=3))
    statuses = [pay().status for _ in range(3)]
    blocked = pay()
    assert statuses == [201, 201, 201]
    assert blocked.status == 402, blocked.body
    assert blocked.body["reasons"] == ["too_many_attempts"]
    (reason,) = decision_of(blocked.body["payment_id"])["reasons"]
    assert (reason["check"], reason["code"]) == ("velocity", "too_many_attempts_per_customer")
    assert "attempt 4 in 3600 s" in reason["message"]
    assert pay(sub="cus_bob").status == 201  # another customer's window


RACERS = 20


@pytest.mark.usefixtures("mid_hour_clock")
def test_racing_attempts_at_the_limit_let_exactly_the_limit_through(aws, emulator):
    use_rules(**only_customer_velocity(max_attempts=5))
    bodies = [pay_body() for _ in range(RACERS)]
    start = Barrier(RACERS)

    def attempt(body: dict[str, Any]) -> int:
        start.wait()
        return call("POST", "/payments", body=body, source_ip="203.0.113.9").status

    with ThreadPoolExecutor(RACERS) as pool:
        statuses = list(pool.map(attempt, bodies))
    assert sorted(statuses) == [201] * 5 + [402] * (RACERS - 5)
    assert len(emulator.payment_intents()) == 5
    assert attempts_counted() == RACERS


def test_per_address_and_per_card_limits(aws, emulator):
    one = VelocityLimit(max_attempts=1, max_declines=1000, window_seconds=600)
    use_rules(
        velocity=VelocityRules(customer=LOOSE, card_fingerprint=LOOSE, source_ip=one),
        card_testing=CardTestingRules(customer=NO_CARD_TESTING, source_ip=NO_CARD_TESTING),
    )
    assert pay(sub="cus_a", source_ip="198.51.100.1").status == 201
    blocked = pay(sub="cus_b", source_ip="198.51.100.1")
    assert blocked.status == 402
    assert [r["code"] for r in decision_of(blocked.body["payment_id"])["reasons"]] == [
        "too_many_attempts_per_source_ip"
    ]
    assert pay(sub="cus_b", source_ip="198.51.100.2").status == 201
    # An IPv6 customer is counted by their /64.
    assert pay(sub="cus_c", source_ip="2001:db8:7:1::a").status == 201
    assert pay(sub="cus_d", source_ip="2001:db8:7:1::b").status == 402
    use_rules(
        velocity=VelocityRules(customer=LOOSE, card_fingerprint=one, source_ip=LOOSE),
        card_testing=CardTestingRules(customer=NO_CARD_TESTING, source_ip=NO_CARD_TESTING),
    )
    # The same card number (its fingerprint) for anyone, from anywhere.
    assert pay(sub="cus_e", payment_method_id="pm_card_amex", source_ip="198.51.100.7").status == 201
    by_card = pay(sub="cus_f", payment_method_id="pm_card_amex", source_ip="198.51.100.8")
    assert by_card.status == 402
    codes = [r["code"] for r in decision_of(by_card.body["payment_id"])["reasons"]]
    assert codes == ["too_many_attempts_per_card_fingerprint"]


def test_an_admin_paying_for_a_customer_is_not_counted_by_the_admins_address(aws, emulator):
    one = VelocityLimit(max_attempts=1, max_declines=1000, window_seconds=600)
    use_rules(
        velocity=VelocityRules(customer=LOOSE, card_fingerprint=LOOSE, source_ip=one),
        card_testing=CardTestingRules(customer=NO_CARD_TESTING, source_ip=NO_CARD_TESTING),
    )
    for customer in ("cus_a", "cus_b"):
        body = pay_body(customer_id=customer)
        response = call("POST", "/payments", sub="admin-desk", admin=True, body=body, source_ip="10.0.0.1")
        assert response.status == 201, response.body
        assert (
            admin("GET", f"/payments/{response.body['id']}").body["risk"]["decision"]["facts"]["source_ip"]
            is None
        )


# --------------------------------------------------------------------------- amounts


def test_amount_limits_per_payment_and_per_customer_day(aws, emulator):
    use_rules(amount_limits={"usd": AmountLimit(max_per_payment=5000, max_per_customer_per_day=8000)})
    over = pay(amount=5001)
    assert over.status == 402
    assert over.body["reasons"] == ["amount_over_limit"]
    assert [r["code"] for r in decision_of(over.body["payment_id"])["reasons"]] == [
        "amount_over_payment_limit"
    ]
    assert pay(amount=5000).status == 201
    assert pay(amount=3000).status == 201  # the day's total is 8000 now
    day_over = pay(amount=100)
    assert day_over.status == 402
    assert [r["code"] for r in decision_of(day_over.body["payment_id"])["reasons"]] == [
        "amount_over_day_limit"
    ]
    assert pay(amount=5000, currency="eur").status == 201  # no limit of ours in eur
    assert pay(sub="cus_bob", amount=5000).status == 201


def test_a_declined_payment_gives_its_amount_back_to_the_day(aws, emulator):
    use_rules(amount_limits={"usd": AmountLimit(max_per_payment=5000, max_per_customer_per_day=5000)})
    declined = pay(amount=4000, payment_method_id="pm_card_chargeDeclined")
    assert (declined.status, declined.body["code"]) == (402, "card_declined")
    assert pay(amount=4000).status == 201
    assert pay(amount=1001).status == 402


# --------------------------------------------------------------------------- card testing and declines


def card_testing(**limits: int) -> dict[str, Any]:
    guard = CardTestingLimit(
        **{"max_declines": 1000, "max_distinct_cards": 1000, "window_seconds": 3600, **limits}
    )
    return {
        "velocity": VelocityRules(customer=LOOSE, card_fingerprint=LOOSE, source_ip=LOOSE),
        "card_testing": CardTestingRules(customer=guard, source_ip=guard),
    }


def test_card_testing_many_declines_from_one_address(aws, emulator):
    use_rules(**card_testing(max_declines=3))
    declines = [
        "pm_card_chargeDeclined",
        "pm_card_chargeDeclinedInsufficientFunds",
        "pm_card_chargeDeclinedIncorrectCvc",
    ]
    for n, card in enumerate(declines):
        response = pay(sub=f"cus_tester{n}", payment_method_id=card, source_ip="192.0.2.66")
        assert (response.status, response.body["code"]) == (402, "card_declined")
    guarded = pay(sub="cus_tester9", payment_method_id="pm_card_visa", source_ip="192.0.2.66")
    assert guarded.status == 402, guarded.body
    assert guarded.body["code"] == "payment_blocked"
    codes = [r["code"] for r in decision_of(guarded.body["payment_id"])["reasons"]]
    assert codes == ["card_testing_declines_per_source_ip"]
    assert pay(sub="cus_tester9", source_ip="192.0.2.67").status == 201


def test_card_testing_many_distinct_cards_for_one_customer(aws, emulator):
    use_rules(**card_testing(max_distinct_cards=2))
    assert pay(payment_method_id="pm_card_visa", source_ip="192.0.2.1").status == 201
    assert pay(payment_method_id="pm_card_mastercard", source_ip="192.0.2.2").status == 201
    assert pay(payment_method_id="pm_card_visa", source_ip="192.0.2.3").status == 201  # the same card again
    third = pay(payment_method_id="pm_card_amex", source_ip="192.0.2.4")
    assert third.status == 402, third.body
    assert [r["code"] for r in decision_of(third.body["payment_id"])["reasons"]] == [
        "card_testing_cards_per_customer"
    ]


def declines_counted(kind: str = "customer") -> int:
    return sum(
        int(value["N"])
        for item in velocity_items(kind)
        for name, value in item.items()
        if name[0] == "d" and name[1:].isdigit()
    )


def test_a_decline_is_counted_once_also_when_its_webhook_comes_twice(aws, emulator, dispatcher):
    declined = pay(payment_method_id="pm_card_chargeDeclined")
    assert declined.status == 402
    assert (declines_counted("customer"), declines_counted("card"), declines_counted("ip")) == (1, 1, 1)
    intent_id = intent_of(declined.body["payment_id"], emulator)["id"]
    failed = emitted(emulator, "payment_intent.payment_failed", intent_id)
    for _ in range(2):  # the bus delivers at least once
        put_stripe_event(failed)
        dispatcher.drain()
    assert (declines_counted("customer"), declines_counted("card"), declines_counted("ip")) == (1, 1, 1)


def test_an_asynchronous_decline_is_counted_by_the_subscriber(aws, emulator, dispatcher):
    started = pay(payment_method_id="pm_card_authenticationRequired", return_url="https://shop.example/done")
    assert started.body["status"] == "requires_action"
    intent_id = intent_of(started.body["id"], emulator)["id"]
    emulator.authenticate_payment_intent(intent_id, succeed=False)
    failed = emitted(emulator, "payment_intent.payment_failed", intent_id)
    assert declines_counted() == 0
    for _ in range(2):
        put_stripe_event(failed)
        dispatcher.drain()
    assert admin("GET", f"/payments/{started.body['id']}").body["status"] == "failed"
    assert declines_counted() == 1


def test_a_blocked_payment_is_not_a_decline(aws, emulator):
    block("customer", "cus_alice")
    assert pay().status == 402
    assert declines_counted() == 0
