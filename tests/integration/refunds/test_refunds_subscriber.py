"""The refunds subscriber: Stripe's refund events through the bus (real rules, moto SQS, real parser)."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3

from tests.support.bus import put_stripe_event

from .conftest import StripeFeed, history, pay, payment, refund, refunded, refunds_deliveries


def stored_state(payment_id: str) -> dict[str, Any]:
    item = boto3.client("dynamodb").get_item(
        TableName="payments", Key={"pk": {"S": f"PAYMENT#{payment_id}"}, "sk": {"S": "STATE"}}
    )["Item"]
    return {
        name: int(item[name]["N"])
        for name in ("amount_captured", "amount_refunded", "amount_refund_pending", "refund_count", "version")
    } | {"status": item["status"]["S"]}


def test_asynchronous_refund_failure_releases_the_reservation(aws, emulator, dispatcher, feed):
    paid = pay(10_000, pm="pm_card_refundFail")
    pending = refunded(paid["id"], 4_000)
    assert pending["status"] == "pending"
    assert stored_state(paid["id"])["amount_refund_pending"] == 4_000
    # The reservation holds while Stripe has not decided.
    assert refund(paid["id"], {"amount": 6_001}).body["code"] == "amount_exceeds_refundable"
    feed.forward()  # refund.created, charge.refunded: nothing new for us
    assert {d.outcome for d in refunds_deliveries(dispatcher)} == {"ok"}

    emulator.fail_refund(pending["stripe_refund_id"])
    forwarded = feed.forward()
    assert [e["type"] for e in forwarded] == ["refund.failed", "refund.updated", "charge.refund.updated"]
    assert {d.outcome for d in refunds_deliveries(dispatcher)} == {"ok"}

    state = payment(paid["id"])
    assert state["refunds"][0]["status"] == "failed"
    assert state["refunds"][0]["failure_reason"] == "expired_or_canceled_card"
    assert (state["status"], state["amount_refunded"]) == ("succeeded", 0)
    assert stored_state(paid["id"])["amount_refund_pending"] == 0

    # Released: a new refund of the same amount goes through, and settles.
    again = refunded(paid["id"], 4_000)
    emulator.succeed_refund(again["stripe_refund_id"])
    feed.forward()
    refunds_deliveries(dispatcher)
    state = payment(paid["id"])
    assert (state["status"], state["amount_refunded"]) == ("partially_refunded", 4_000)
    assert [r["status"] for r in state["refunds"]] == ["failed", "succeeded"]
    assert history(paid["id"])[2:] == ["RefundRequested", "RefundFailed", "RefundRequested", "RefundIssued"]
    assert stored_state(paid["id"]) | {"version": 0} == {
        "amount_captured": 10_000,
        "amount_refunded": 4_000,
        "amount_refund_pending": 0,
        "refund_count": 1,
        "status": "partially_refunded",
        "version": 0,
    }


def test_a_refund_made_in_the_dashboard_is_recorded_once(aws, emulator, dispatcher, feed, stripe_api):
    paid = pay(10_000)
    intent = emulator.payment_intents()[0]["id"]
    feed.new()
    made = stripe_api.v1.refunds.create(params={"payment_intent": intent, "amount": 2_500})
    events = feed.forward()
    feed.forward(events)  # Stripe redelivers
    assert {d.outcome for d in refunds_deliveries(dispatcher)} == {"ok"}

    state = payment(paid["id"])
    (recorded,) = state["refunds"]
    assert (recorded["origin"], recorded["stripe_refund_id"], recorded["amount"]) == (
        "stripe",
        made.id,
        2_500,
    )
    assert (state["status"], state["amount_refunded"]) == ("partially_refunded", 2_500)
    assert history(paid["id"]).count("RefundIssued") == 1
    # What is left can still be refunded through the API, exactly.
    assert refunded(paid["id"])["amount"] == 7_500
    assert payment(paid["id"])["status"] == "refunded"


def end_state(payment_id: str) -> tuple[Any, ...]:
    state = payment(payment_id)
    stored = stored_state(payment_id)
    refunds = sorted((r["amount"], r["status"], r["origin"]) for r in state["refunds"])
    return state["status"], state["amount_refunded"], stored["amount_refund_pending"], tuple(refunds)


def dashboard_refund(
    emulator: Any, stripe_api: Any, feed: StripeFeed, pm: str, *, settle: bool
) -> tuple[str, list]:
    """A payment, then a refund made in the dashboard; returns its id and Stripe's events, in order."""
    paid = pay(10_000, pm=pm)
    intent = next(i for i in emulator.payment_intents() if i["metadata"]["payment_id"] == paid["id"])
    feed.new()
    made = stripe_api.v1.refunds.create(params={"payment_intent": intent["id"], "amount": 3_000})
    if settle:
        emulator.succeed_refund(made.id)
    return paid["id"], feed.new()


def test_any_order_and_duplicates_end_in_the_same_state(aws, emulator, dispatcher, feed, stripe_api):
    in_order, events = dashboard_refund(emulator, stripe_api, feed, "pm_card_refundFail", settle=True)
    assert [e["type"] for e in events] == [
        "refund.created",
        "charge.refunded",
        "refund.updated",
        "charge.refund.updated",
    ]
    feed.forward(events)
    refunds_deliveries(dispatcher)

    reordered, events = dashboard_refund(emulator, stripe_api, feed, "pm_card_refundFail", settle=True)
    # charge.refunded first, the settled refund before its creation, and everything twice.
    for event in [*reversed(events), *events]:
        feed.forward([event])
        refunds_deliveries(dispatcher)

    expected = ("partially_refunded", 3_000, 0, ((3_000, "succeeded", "stripe"),))
    assert end_state(in_order) == end_state(reordered) == expected
    # History tells what we learned when: the reordered payment heard of the refund only once settled.
    assert history(in_order)[2:] == ["RefundRequested", "RefundIssued"]
    assert history(reordered)[2:] == ["RefundIssued"]


def test_charge_refunded_with_embedded_refunds_before_refund_created(
    aws, emulator, dispatcher, feed, stripe_api
):
    """API versions before 2022-11-15 embed the charge's refunds: applied the same way, once."""
    payment_id, events = dashboard_refund(emulator, stripe_api, feed, "pm_card_visa", settle=False)
    created = next(e for e in events if e["type"] == "refund.created")
    charge_refunded = copy.deepcopy(next(e for e in events if e["type"] == "charge.refunded"))
    charge_refunded["data"]["object"]["refunds"] = {"object": "list", "data": [created["data"]["object"]]}

    feed.forward([charge_refunded])
    refunds_deliveries(dispatcher)
    assert end_state(payment_id) == ("partially_refunded", 3_000, 0, ((3_000, "succeeded", "stripe"),))
    feed.forward([created])
    refunds_deliveries(dispatcher)
    assert end_state(payment_id) == ("partially_refunded", 3_000, 0, ((3_000, "succeeded", "stripe"),))
    assert history(payment_id).count("RefundIssued") == 1


def test_an_event_for_a_payment_we_do_not_have_yet_is_retried_then_parked_not_dropped(
    aws, emulator, dispatcher, feed
):
    paid = pay(10_000)
    db = boto3.client("dynamodb")
    key = {"pk": {"S": f"PAYMENT#{paid['id']}"}, "sk": {"S": "STATE"}}
    state_item = db.get_item(TableName="payments", Key=key)["Item"]
    refunded(paid["id"], 1_000)
    events = feed.new()
    # Pretend the payment is not known yet (say, written by a slower path).
    db.delete_item(TableName="payments", Key=key)
    created = next(e for e in events if e["type"] == "refund.created")
    feed.forward([created])

    deliveries = refunds_deliveries(dispatcher)
    assert [d.outcome for d in deliveries] == ["retry", "retry", "dlq"]
    assert "not found" in str(deliveries[-1].error)
    parked = parked_events("refunds")
    assert [e["detail"]["id"] for e in parked] == [created["id"]]

    db.put_item(TableName="payments", Item=state_item)
    put_stripe_event(parked[0]["detail"])  # redrive
    assert [d.outcome for d in refunds_deliveries(dispatcher)] == ["ok"]


def test_a_malformed_bus_event_fails_validation_and_is_parked(aws, emulator, dispatcher):
    put_stripe_event({"id": "evt_broken", "type": "refund.created", "data": {"object": {"object": "refund"}}})
    deliveries = refunds_deliveries(dispatcher)
    assert [d.outcome for d in deliveries] == ["retry", "retry", "dlq"]
    assert "ValidationError" in str(deliveries[-1].error)
    assert "amount" in str(deliveries[-1].error)
    assert [e["detail"]["id"] for e in parked_events("refunds")] == ["evt_broken"]


def test_a_refund_of_a_payment_made_outside_this_service_is_ignored(
    aws, emulator, dispatcher, feed, stripe_api
):
    intent = stripe_api.v1.payment_intents.create(
        params={"amount": 5_000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    feed.new()
    stripe_api.v1.refunds.create(params={"payment_intent": intent.id})
    feed.forward()
    assert {d.outcome for d in refunds_deliveries(dispatcher)} == {"ok"}
    scanned = boto3.client("dynamodb").scan(TableName="payments")["Items"]
    assert not [i for i in scanned if i["sk"]["S"].startswith("REFUND#")]


def parked_events(function: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{function}-dlq")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"])["requestPayload"] for m in messages]  # Lambda's on-failure records


def test_stripes_event_handled_before_our_own_answer_is_recorded(
    aws, emulator, dispatcher, feed, monkeypatch
):
    """The webhook path and the request path race on one refund: whichever records it first wins,
    the other finds nothing new."""
    from payments import services

    paid = pay(10_000)
    feed.new()
    gateway = services.gateway()
    create_refund = gateway.create_refund

    def webhook_first(payment: Any, refund_: Any) -> Any:
        answer = create_refund(payment, refund_)
        feed.forward()
        assert {d.outcome for d in refunds_deliveries(dispatcher)} == {"ok"}
        assert stored_state(paid["id"])["amount_refunded"] == 2_000  # recorded from the event
        return answer

    monkeypatch.setattr(gateway, "create_refund", webhook_first)
    made = refunded(paid["id"], 2_000)

    assert made["status"] == "succeeded"
    assert stored_state(paid["id"])["amount_refunded"] == 2_000
    assert history(paid["id"])[2:] == ["RefundRequested", "RefundIssued"]


def test_events_the_webhook_had_to_slim_still_apply(aws, emulator, dispatcher, feed, stripe_api):
    """Too large for one bus entry, an event travels slimmed: a refund keeps all we need, a charge is
    fetched whole from Stripe."""
    from payments.application.webhook import slim

    payment_id, events = dashboard_refund(emulator, stripe_api, feed, "pm_card_visa", settle=False)
    feed.forward([slim(event) for event in reversed(events)])
    assert {d.outcome for d in refunds_deliveries(dispatcher)} == {"ok"}
    assert end_state(payment_id) == ("partially_refunded", 3_000, 0, ((3_000, "succeeded", "stripe"),))
