"""A transient DynamoDB failure after Stripe refunded must never become the key's final answer: the
request answers 503 (not stored), and the same key resumes and records Stripe's refund, once."""

from __future__ import annotations

from payments.adapters.dynamodb.payments import TRANSACT_ATTEMPTS
from tests.support.dynamodb_faults import cancel_transactions

from .conftest import pay, payment, refund


def test_conflicts_after_stripe_refunded_answer_503_and_the_same_key_resumes(aws, emulator):
    paid = pay(10_000)
    # The reservation commits; every try to record Stripe's answer meets another transaction.
    injected = cancel_transactions(TRANSACT_ATTEMPTS, "TransactionConflict", after=1)
    first = refund(paid["id"], {"amount": 2_500}, idempotency_key="refund-once")
    assert len(injected) == TRANSACT_ATTEMPTS
    assert first.status == 503, first.body
    assert first.body["code"] == "store_unavailable"
    assert first.headers.get("Retry-After")
    assert len(emulator.refunds()) == 1  # Stripe acted

    again = refund(paid["id"], {"amount": 2_500}, idempotency_key="refund-once")
    assert again.status == 201, again.body
    assert again.headers.get("Idempotent-Replayed") is None  # 503 was not stored: it ran again
    (stripe_refund,) = emulator.refunds()  # Stripe replayed its answer: still one refund
    assert (again.body["status"], again.body["stripe_refund_id"]) == ("succeeded", stripe_refund["id"])
    assert payment(paid["id"])["amount_refunded"] == 2_500


def test_a_throttled_transaction_is_retried_within_the_request(aws, emulator):
    paid = pay(10_000)
    injected = cancel_transactions(2, "ThrottlingError", after=1)
    done = refund(paid["id"], {"amount": 1_000})
    assert len(injected) == 2
    assert done.status == 201, done.body
    assert done.body["status"] == "succeeded"
    assert len(emulator.refunds()) == 1
