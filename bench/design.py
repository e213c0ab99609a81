"""The fewest requests each operation's common path needs under DESIGN.md, and why each one is needed.

The benchmark counts what the code does and sets it beside this list. Counts are per warm call (a cold
container also reads its secrets once: Secrets Manager is cached for SECRETS_MAX_AGE_SECONDS).

Assumptions behind the minimum, stated once:
- A read is needed only for data the request does not carry and has not just written. After a commit the
  code holds the item it wrote (and its version); optimistic locking catches a concurrent change, and
  only then is a re-read needed.
- A conditional create (`attribute_not_exists`) detects an existing item: resuming after a crash needs a
  read only when that condition fails, not on every request.
- Items of one request that live in different partitions are fetched together (TransactGetItems, which
  also reads them as of one moment, or a Query over one partition) rather than one GetItem each.
- Events of one request go to EventBridge in one PutEvents after the last commit (the outbox relay
  covers a crash in between). EventBridge bills per event, not per PutEvents call: batching saves a
  round trip, not money. Each EVENT# item's outbox mark is cleared by its own UpdateItem (DynamoDB has
  no batch update).
- Idempotency (Powertools): one conditional PutItem to claim the key, one UpdateItem to store the answer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Need:
    request: str  # service:operation, as the meter names them (Stripe: method and path)
    count: int
    why: str


IDEMPOTENCY = [
    Need("dynamodb:PutItem", 1, "claim the Idempotency-Key (conditional put of an in-progress record)"),
    Need("dynamodb:UpdateItem", 1, "store the answer under the key for replays"),
]

MINIMUM: dict[str, list[Need]] = {
    "process_payment": [
        *IDEMPOTENCY[:1],
        Need(
            "dynamodb:GetItem",
            1,
            "is the payment method saved, and by whom (a saved card must be the caller's)",
        ),
        Need(
            "dynamodb:TransactWriteItems", 1, "write ahead: STATE pending + EVENT#1 + the order's live claim"
        ),
        Need(
            "stripe:POST /v1/payment_intents",
            1,
            "create and confirm the PaymentIntent (idempotency key pay_X:create)",
        ),
        Need("dynamodb:TransactWriteItems", 1, "record Stripe's answer: STATE on version + EVENT#2"),
        Need("events:PutEvents", 1, "PaymentInitiated and PaymentProcessed, one batch"),
        Need("dynamodb:UpdateItem", 2, "clear the outbox mark of each published EVENT# item"),
        *IDEMPOTENCY[1:],
    ],
    "get_payment": [Need("dynamodb:Query", 1, "STATE and REFUND# items of the payment in one query")],
    "list_payments": [Need("dynamodb:Query", 1, "one page of the customer's payments (by_customer index)")],
    "get_payment_history": [Need("dynamodb:Query", 1, "the payment's EVENT# items")],
    "capture_payment": [
        *IDEMPOTENCY[:1],
        Need("dynamodb:GetItem", 1, "the payment: capturable? which PaymentIntent?"),
        Need("stripe:POST /v1/payment_intents/{id}/capture", 1, "capture"),
        Need("dynamodb:TransactWriteItems", 1, "STATE on version + EVENT#"),
        Need("events:PutEvents", 1, "PaymentCaptured"),
        Need("dynamodb:UpdateItem", 1, "clear the outbox mark"),
        *IDEMPOTENCY[1:],
    ],
    "cancel_payment": [
        *IDEMPOTENCY[:1],
        Need("dynamodb:GetItem", 1, "the payment: owner? cancelable? which PaymentIntent?"),
        Need("stripe:POST /v1/payment_intents/{id}/cancel", 1, "cancel"),
        Need("dynamodb:TransactWriteItems", 1, "STATE on version + EVENT# + release the order's claim"),
        Need("events:PutEvents", 1, "PaymentCanceled"),
        Need("dynamodb:UpdateItem", 1, "clear the outbox mark"),
        *IDEMPOTENCY[1:],
    ],
    "refund_payment": [
        *IDEMPOTENCY[:1],
        Need(
            "dynamodb:TransactGetItems",
            1,
            "the payment's STATE and the (new) REFUND# item as of one moment (a refund's status changes "
            "with its payment's version)",
        ),
        Need(
            "dynamodb:TransactWriteItems", 1, "reserve: STATE amounts on version + REFUND# pending + EVENT#"
        ),
        Need("stripe:POST /v1/refunds", 1, "refund (idempotency key rfd_X:create)"),
        Need("dynamodb:TransactWriteItems", 1, "record Stripe's answer: STATE + REFUND# + EVENT#"),
        Need("events:PutEvents", 1, "RefundRequested and RefundIssued, one batch"),
        Need("dynamodb:UpdateItem", 2, "clear the outbox mark of each EVENT# item"),
        *IDEMPOTENCY[1:],
    ],
    "save_payment_method": [
        *IDEMPOTENCY[:1],
        Need(
            "stripe:GET /v1/payment_methods/{id}",
            1,
            "the card's fingerprint and current customer, before attaching",
        ),
        Need(
            "dynamodb:TransactGetItems",
            1,
            "owner of the method, the caller's Stripe customer, method and card items",
        ),
        Need("stripe:POST /v1/payment_methods/{id}/attach", 1, "attach to the caller's Stripe customer"),
        Need("dynamodb:TransactWriteItems", 1, "PM# + OWNER + CARD# items together"),
        Need("events:PutEvents", 1, "PaymentMethodSaved (published synchronously, no outbox)"),
        *IDEMPOTENCY[1:],
    ],
    "list_payment_methods": [Need("dynamodb:Query", 1, "the caller's PM# items")],
    "get_payment_method": [
        Need("dynamodb:GetItem", 1, "CUSTOMER#/PM# (keyed by the caller: no ownership read)")
    ],
    "delete_payment_method": [
        *IDEMPOTENCY[:1],
        Need("dynamodb:GetItem", 1, "the caller's method"),
        Need("stripe:POST /v1/payment_methods/{id}/detach", 1, "detach in Stripe"),
        Need("events:PutEvents", 1, "PaymentMethodDeleted"),
        Need("dynamodb:TransactWriteItems", 1, "remove PM# + OWNER + CARD# together"),
        *IDEMPOTENCY[1:],
    ],
    "stripe_webhook": [
        Need("dynamodb:PutItem", 1, "dedupe: claim the Stripe event id"),
        Need("events:PutEvents", 1, "forward the event to the bus"),
        Need("dynamodb:UpdateItem", 1, "mark the event id done"),
    ],
    "payment_status": [
        Need(
            "dynamodb:GetItem",
            1,
            "the payment named in the intent's metadata; no write when it already knows",
        ),
    ],
    "refunds": [
        Need(
            "dynamodb:TransactGetItems",
            1,
            "the payment and its refund as of one moment: nothing to write when our API recorded it",
        ),
    ],
    "disputes": [
        Need(
            "stripe:GET /v1/payment_intents/{id}",
            1,
            "a dispute names the intent; our payment id is in its metadata",
        ),
        Need("dynamodb:GetItem", 1, "the payment"),
        Need("dynamodb:TransactWriteItems", 1, "STATE dispute + EVENT#"),
        Need("events:PutEvents", 1, "ChargebackReceived"),
        Need("dynamodb:UpdateItem", 1, "clear the outbox mark"),
    ],
    "accounting": [Need("dynamodb:PutItem", 1, "the journal entry, conditional on the source event id")],
    "outbox_relay": [Need("dynamodb:Query", 4, "the sparse outbox index, one query per shard (4 shards)")],
    "janitor": [
        Need("dynamodb:Query", 1, "payments still pending past the threshold (by_status index)"),
        Need("dynamodb:Query", 1, "refunds still waiting for Stripe past the threshold (by_status index)"),
    ],
}


def minimum_by_service(op: str) -> dict[str, int] | None:
    needs = MINIMUM.get(op)
    if needs is None:
        return None
    totals: dict[str, int] = {"dynamodb": 0, "stripe": 0, "events": 0}
    for need in needs:
        service = need.request.split(":", 1)[0]
        totals[service] = totals.get(service, 0) + need.count
    return totals


def minimum_requests(op: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for need in MINIMUM.get(op, []):
        counts[need.request] = counts.get(need.request, 0) + need.count
    return counts
