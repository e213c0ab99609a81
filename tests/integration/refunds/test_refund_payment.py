"""RefundPayment end to end: reserve, Stripe, record; validation, authorization, idempotency, crashes."""

from __future__ import annotations

import boto3

from payments.domain.events import DETAIL_MODELS
from tests.support.api import call

from .conftest import ADMIN, history, pay, payment, refund, refunded, stripe_charge


def refund_items() -> list[dict]:
    items = boto3.client("dynamodb").scan(TableName="payments")["Items"]
    return [i for i in items if i["sk"]["S"].startswith("REFUND#")]


def forget_idempotency_records() -> None:
    db = boto3.client("dynamodb")
    for item in db.scan(TableName="idempotency")["Items"]:
        db.delete_item(TableName="idempotency", Key={"id": item["id"]})


def test_partial_then_full_refund(aws, emulator, bus):
    paid = pay(10_000)
    first = refunded(paid["id"], 3_000, reason="requested_by_customer", metadata={"ticket": "T-1"})

    assert first["id"].startswith("rfd_")
    assert (first["status"], first["amount"], first["currency"], first["origin"]) == (
        "succeeded",
        3_000,
        "usd",
        "api",
    )
    (stripe_refund,) = emulator.refunds()
    assert first["stripe_refund_id"] == stripe_refund["id"]
    assert stripe_refund["reason"] == "requested_by_customer"
    # Our ids travel in the refund's metadata so that Stripe's events map back.
    assert stripe_refund["metadata"] == {
        "ticket": "T-1",
        "payment_id": paid["id"],
        "refund_id": first["id"],
        "order_id": paid["order_id"],
        "customer_id": "cus_alice",
    }
    after_first = payment(paid["id"])
    assert (after_first["status"], after_first["amount_refunded"]) == ("partially_refunded", 3_000)

    rest = refunded(paid["id"])  # no amount: what is left
    assert rest["amount"] == 7_000
    final = payment(paid["id"])
    assert (final["status"], final["amount_refunded"], final["amount_captured"]) == (
        "refunded",
        10_000,
        10_000,
    )
    assert [r["id"] for r in final["refunds"]] == [first["id"], rest["id"]]
    assert final["refunds"][0] == first | {"updated_at": final["refunds"][0]["updated_at"]}
    # Internal attributes stay internal.
    assert not {"request_hash", "requested_by", "pk", "sk"} & final["refunds"][0].keys()
    # The owner sees the refunds too.
    assert call("GET", f"/payments/{paid['id']}").body["refunds"] == final["refunds"]

    steps = ["RefundRequested", "RefundIssued"]
    assert history(paid["id"]) == ["PaymentInitiated", "PaymentProcessed", *steps, *steps]
    published = [e for e in bus.drain() if e["detail-type"].startswith("Refund")]
    assert [e["detail-type"] for e in published] == steps * 2
    issued = published[1]["detail"]
    assert issued["data"]["refund"]["id"] == first["id"]
    assert issued["data"]["refund"]["previous_status"] == "pending"
    assert issued["data"]["amount_refunded"] == 3_000
    for event in published:  # what subscribers are promised (events/schemas)
        DETAIL_MODELS[event["detail-type"]].model_validate(event["detail"])
    assert stripe_charge(emulator, paid["id"])["amount_refunded"] == 10_000


def test_replay_and_reused_key(aws, emulator):
    paid = pay(10_000)
    first = refund(paid["id"], {"amount": 1_000}, idempotency_key="r-1")
    again = refund(paid["id"], {"amount": 1_000}, idempotency_key="r-1")
    assert first.status == again.status == 201
    assert again.body == first.body
    assert again.header("Idempotent-Replayed") == "true"
    assert len(emulator.refunds()) == 1

    other = refund(paid["id"], {"amount": 2_000}, idempotency_key="r-1")
    assert other.status == 422
    assert other.body["code"] == "idempotency_key_reused"
    # After the idempotency record expired, the refund the key made answers the same body again
    # without refunding twice, and still refuses another body.
    forget_idempotency_records()
    same = refund(paid["id"], {"amount": 1_000}, idempotency_key="r-1")
    assert (same.status, same.body["id"]) == (201, first.body["id"])
    forget_idempotency_records()
    late = refund(paid["id"], {"amount": 2_000}, idempotency_key="r-1")
    assert (late.status, late.body["code"]) == (422, "idempotency_key_reused")
    assert len(emulator.refunds()) == 1
    assert payment(paid["id"])["amount_refunded"] == 1_000


INVALID_BODIES = [
    ({"amount": 0}, "amount"),
    ({"amount": -100}, "amount"),
    ({"amount": 10.5}, "amount"),
    ({"amount": 100.0}, "amount"),
    ({"amount": "100"}, "amount"),
    ({"amount": 100_000_000}, "amount"),
    ({"reason": "changed_my_mind"}, "reason"),
    ({"metadata": {f"k{i}": "v" for i in range(21)}}, "metadata"),
    ({"currency": "usd"}, "currency"),
]


def test_invalid_body_is_a_validation_problem(aws, emulator, subtests):
    # The body is checked before anything is read: no payment is needed to see it refused.
    for body, field in INVALID_BODIES:
        with subtests.test(body=body):
            response = refund("pay_any", body)
            assert response.status == 400, response.body
            assert response.body["code"] == "validation_error"
            assert field in [e["field"].split(".")[0] for e in response.body["errors"]]
    assert refund_items() == []
    assert emulator.refunds() == []


def test_amount_above_what_is_left(aws, emulator):
    paid = pay(10_000)
    refunded(paid["id"], 6_000)
    response = refund(paid["id"], {"amount": 4_001})
    assert response.status == 409
    assert response.body["code"] == "amount_exceeds_refundable"
    assert (response.body["param"], response.body["refundable_amount"]) == ("amount", 4_000)
    assert len(emulator.refunds()) == 1
    assert refunded(paid["id"], 4_000)["status"] == "succeeded"


def test_payments_that_cannot_be_refunded(aws, emulator):
    declined = call(
        "POST",
        "/payments",
        body={
            "order_id": "o-declined",
            "amount": 1_000,
            "currency": "usd",
            "payment_method_id": "pm_card_chargeDeclined",
        },
    )
    authorized = pay(1_000, capture="manual")  # requires_capture: nothing captured to refund
    action = pay(1_000, pm="pm_card_authenticationRequired", return_url="https://shop.example/back")
    full = pay(1_000)
    refunded(full["id"])

    for payment_id, status in (
        (declined.body["payment_id"], "failed"),
        (authorized["id"], "requires_capture"),
        (action["id"], "requires_action"),
        (full["id"], "refunded"),
    ):
        response = refund(payment_id, {"amount": 100})
        assert response.status == 409, (status, response.body)
        assert response.body["code"] == "payment_not_refundable"
        assert status in response.body["detail"]
    assert len(emulator.refunds()) == 1


def test_at_most_ten_refunds(aws, emulator):
    paid = pay(10_000)
    for _ in range(10):
        refunded(paid["id"], 100)
    eleventh = refund(paid["id"], {"amount": 100})
    assert eleventh.status == 409
    assert eleventh.body["code"] == "refund_limit_reached"
    assert len(emulator.refunds()) == 10
    assert payment(paid["id"])["amount_refunded"] == 1_000


def test_customers_cannot_refund_and_unknown_payments_are_404(aws, emulator):
    paid = pay(10_000)
    own = refund(paid["id"], {"amount": 100}, sub="cus_alice", admin=False)
    assert own.status == 403
    assert own.body["code"] == "forbidden"
    missing = refund("pay_doesnotexist", {"amount": 100})
    assert missing.status == 404
    assert missing.body["code"] == "not_found"
    no_key = refund(paid["id"], {"amount": 100}, idempotency_key=None)
    assert no_key.status == 400
    assert no_key.body["code"] == "idempotency_key_missing"
    card = refund(paid["id"], {"amount": 100, "metadata": {"card": "4242424242424242"}})
    assert card.status == 400
    assert card.body["code"] == "card_data_not_accepted"
    assert refund_items() == []
    assert emulator.refunds() == []


def test_stripe_refusal_releases_the_reservation(aws, emulator):
    # A disputed charge cannot be refunded: Stripe refuses the request itself.
    paid = pay(5_000, pm="pm_card_createDispute")
    response = refund(paid["id"], {"amount": 1_000}, idempotency_key="k-dispute")
    assert response.status == 409
    assert (response.body["code"], response.body["failure_reason"]) == ("refund_rejected", "charge_disputed")
    state = payment(paid["id"])
    assert state["amount_refunded"] == 0
    assert state["status"] == "succeeded"
    (failed,) = state["refunds"]
    assert (failed["id"], failed["status"], failed["stripe_refund_id"]) == (
        response.body["refund_id"],
        "failed",
        None,
    )
    assert history(paid["id"])[-2:] == ["RefundRequested", "RefundFailed"]
    # The 4xx answer is final for that key: a replay gives it back.
    replay = refund(paid["id"], {"amount": 1_000}, idempotency_key="k-dispute")
    assert (replay.status, replay.body) == (409, response.body)
    assert replay.header("Idempotent-Replayed") == "true"


def test_stripe_outage_keeps_the_reservation_and_the_retry_completes(aws, emulator):
    paid = pay(10_000)
    emulator.inject_fault(path_prefix="/v1/refunds", kind="api_error")
    failed = refund(paid["id"], {"amount": 2_500}, idempotency_key="outage")
    assert failed.status == 502
    assert failed.body["code"] == "payment_provider_error"
    held = payment(paid["id"])
    assert held["refunds"][0]["status"] == "pending"
    assert held["refunds"][0]["stripe_refund_id"] is None
    # Reserved: another refund cannot take the same money meanwhile.
    assert refund(paid["id"], {"amount": 7_501}).body["code"] == "amount_exceeds_refundable"

    retried = refund(paid["id"], {"amount": 2_500}, idempotency_key="outage")
    assert retried.status == 201
    assert retried.body["status"] == "succeeded"
    assert retried.body["id"] == held["refunds"][0]["id"]
    assert len(emulator.refunds()) == 1
    assert payment(paid["id"])["amount_refunded"] == 2_500


def test_crash_after_stripe_answered_resumes_the_same_refund(aws, emulator):
    """Stripe refunded, then we crashed before recording it: the retry gets the same Stripe refund."""
    from payments.adapters import aws as aws_clients

    paid = pay(10_000)
    crashes = {"left": 1}

    def crash_once(**kwargs):
        if crashes["left"] and "RefundIssued" in str(kwargs.get("params", {}).get("TransactItems", "")):
            crashes["left"] -= 1
            raise RuntimeError("injected crash before our write")

    aws_clients.client("dynamodb").meta.events.register(
        "before-parameter-build.dynamodb.TransactWriteItems", crash_once
    )
    crashed = refund(paid["id"], {"amount": 4_000}, idempotency_key="crash")
    assert crashed.status == 500
    assert "injected" not in (crashed.raw_body or "")
    assert len(emulator.refunds()) == 1

    retried = refund(paid["id"], {"amount": 4_000}, idempotency_key="crash")
    assert retried.status == 201, retried.body
    assert retried.body["stripe_refund_id"] == emulator.refunds()[0]["id"]
    assert len(emulator.refunds()) == 1
    state = payment(paid["id"])
    assert (state["amount_refunded"], len(state["refunds"])) == (4_000, 1)


def test_admins_keys_are_their_own(aws, emulator):
    paid = pay(10_000)
    one = refund(paid["id"], {"amount": 100}, idempotency_key="same", sub=ADMIN)
    two = refund(paid["id"], {"amount": 100}, idempotency_key="same", sub="admin-2")
    assert one.status == two.status == 201
    assert one.body["id"] != two.body["id"]
    assert len(emulator.refunds()) == 2


def _cancel_transact_gets(times: int) -> tuple[list[str], object]:
    """DynamoDB cancels a TransactGetItems that meets a transaction writing one of its items."""
    from botocore.awsrequest import AWSResponse

    from payments.adapters import aws as aws_clients

    db = aws_clients.client("dynamodb")
    cancelled: list[str] = []

    def conflict(**kwargs):
        if len(cancelled) >= times:
            return None
        cancelled.append("TransactGetItems")
        error = {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}],
        }
        return AWSResponse("https://dynamodb", 400, {}, None), error

    db.meta.events.register("before-call.dynamodb.TransactGetItems", conflict, unique_id="conflict")
    return cancelled, lambda: db.meta.events.unregister(
        "before-call.dynamodb.TransactGetItems", unique_id="conflict"
    )


def test_a_read_cancelled_by_a_concurrent_write_is_read_again(aws, emulator):
    paid = pay(10_000)
    cancelled, undo = _cancel_transact_gets(times=2)
    try:
        made = refunded(paid["id"], 1_000)
    finally:
        undo()
    assert cancelled == ["TransactGetItems"] * 2
    assert made["status"] == "succeeded"
    assert payment(paid["id"])["amount_refunded"] == 1_000


def test_reads_that_keep_meeting_writes_answer_409_and_change_nothing(aws, emulator):
    paid = pay(10_000)
    _, undo = _cancel_transact_gets(times=100)
    try:
        response = refund(paid["id"], {"amount": 1_000})
    finally:
        undo()
    assert response.status == 409, response.body
    assert response.body["code"] == "concurrent_update"
    assert refund_items() == []
    assert emulator.refunds() == []
