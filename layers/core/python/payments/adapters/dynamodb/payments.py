"""The payments table (docs/architecture.md, Data model): STATE, EVENT#, REFUND# and ORDER# items.

Every change is one TransactWriteItems: the STATE item on the expected version and the new EVENT# item
(which is also the outbox entry until it is published), plus the order claim when the payment starts
or stops being live. State and its event can never disagree.

The by_status and outbox index keys are sharded by the payment's id (shards.py): a status or the
outbox backlog would otherwise be one partition taking every payment's writes.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Sequence
from typing import Any

from payments.adapters.aws import client
from payments.adapters.dynamodb.codec import from_item, to_item, value
from payments.adapters.dynamodb.reads import get_together
from payments.adapters.dynamodb.shards import (
    OUTBOX_SHARDS,
    STATUS_SHARDS,
    every_shard,
    fan_out,
    merge,
    sharded,
)
from payments.adapters.dynamodb.table import TableAdapter
from payments.application.ports import Page, RefundWrite
from payments.domain.errors import ConcurrentUpdate, Conflict, InvalidCursor, StoreUnavailable
from payments.domain.events import DomainEvent
from payments.domain.payment import PAID, RELEASING_EVENTS, Change, Dispute, Failure, Payment, PaymentStatus
from payments.domain.refund import Refund
from payments.domain.risk import PaymentRisk

STATE = "STATE"
HOLDS = "HOLDS"  # the holds index's one partition: holds are few (only payments our checks review)
OUTBOX = "OUTBOX"  # the sparse outbox index's family: OUTBOX#<shard>
# Cancellation reasons that say nothing about our conditions: another transaction held an item, or
# DynamoDB throttled. The same transaction is tried again; if they persist, the request answers 503
# (not stored by idempotency), so a retry resumes instead of a transient fault becoming final.
TRANSIENT_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)
TRANSACT_ATTEMPTS = 5
FETCH_CHUNK = 100  # items per TransactGetItems
BACKOFF_BASE_SECONDS = 0.02


def payment_key(payment_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PAYMENT#{payment_id}"}, "sk": {"S": STATE}}


def _order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}}


def _event_sk(version: int) -> str:
    return f"EVENT#{version:010d}"


def outbox_shard(payment_id: str) -> str:
    return sharded(OUTBOX, payment_id, OUTBOX_SHARDS)


def status_family(status: str) -> str:
    """The by_status family of a payment status (its keys are `STATUS#<status>#<shard>`)."""
    return f"STATUS#{status}"


# ----------------------------------------------------------------------------- mapping


def payment_to_item(payment: Payment) -> dict[str, Any]:
    values = dataclasses.asdict(payment)
    values["status"] = str(payment.status)
    values.update(
        pk=f"PAYMENT#{payment.id}",
        sk=STATE,
        customer_pk=f"CUSTOMER#{payment.customer_id}",
        status_pk=sharded(status_family(str(payment.status)), payment.id, STATUS_SHARDS),
        created_sk=f"{payment.created_at}#{payment.id}",
    )
    held_since = payment.hold_opened_at
    if held_since is not None:
        # On the sparse holds index while our review hold keeps the authorization (the hold expiry).
        values.update(hold_pk=HOLDS, hold_sk=f"{held_since}#{payment.id}")
    return to_item(values)


_PAYMENT_FIELDS = {f.name for f in dataclasses.fields(Payment)}


def payment_from_item(item: dict[str, Any]) -> Payment:
    values = {k: v for k, v in from_item(item).items() if k in _PAYMENT_FIELDS}
    values["status"] = PaymentStatus(values["status"])
    if values.get("failure"):
        values["failure"] = Failure(**values["failure"])
    if values.get("dispute"):
        values["dispute"] = Dispute(**values["dispute"])
    if values.get("risk"):
        values["risk"] = PaymentRisk.from_dict(values["risk"])
    values["stray_intents"] = tuple(values.get("stray_intents") or ())
    return Payment(**values)


def event_to_item(event: DomainEvent) -> dict[str, Any]:
    assert event.payment_id is not None
    return to_item(
        {
            "pk": f"PAYMENT#{event.payment_id}",
            "sk": _event_sk(event.version),
            "event": event.model_dump(mode="json"),
            "occurred_at": event.occurred_at,
            "outbox_pk": outbox_shard(event.payment_id),
        }
    )


def _occurred(item: dict[str, Any]) -> str:
    return str(item["occurred_at"]["S"])


def event_from_item(item: dict[str, Any]) -> DomainEvent:
    return DomainEvent.model_validate(from_item(item)["event"])


# REFUND#<refund_id> items. Attributes: id, payment_id, amount, currency, status, origin, reason,
# metadata, stripe_refund_id, failure_reason, created_at, updated_at (the public refund), plus
# requested_by and request_hash, which stay internal. Absent values are absent attributes.
PREFIX = "REFUND#"


def refund_key(payment_id: str, refund_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PAYMENT#{payment_id}"}, "sk": {"S": f"{PREFIX}{refund_id}"}}


AWAITING_STRIPE = "REFUND#awaiting_stripe"  # a by_status family: REFUND#awaiting_stripe#<shard>


def refund_to_item(refund: Refund) -> dict[str, Any]:
    values: dict[str, Any] = {"pk": f"PAYMENT#{refund.payment_id}", "sk": f"{PREFIX}{refund.id}"}
    values.update(refund.as_record())
    if refund.awaiting_stripe:
        # On the by_status index while Stripe has not answered, so the janitor finds it; the write
        # that records Stripe's answer replaces the item without these.
        values.update(
            status_pk=sharded(AWAITING_STRIPE, refund.payment_id, STATUS_SHARDS),
            created_sk=f"{refund.created_at}#{refund.id}",
        )
    return to_item(values)


def refund_from_item(item: dict[str, Any]) -> Refund:
    return Refund.from_record(from_item(item))


def refund_put(table: str, refund: Refund, previous: Refund | None) -> dict[str, Any]:
    """The conditioned Put of a refund record: on the status it replaces, or on the item not existing."""
    put: dict[str, Any] = {"TableName": table, "Item": refund_to_item(refund)}
    if previous is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "#status = :previous"
        put["ExpressionAttributeNames"] = {"#status": "status"}
        put["ExpressionAttributeValues"] = {":previous": value(str(previous.status))}
    return put


def _created(item: dict[str, Any]) -> str:
    return str(item["created_sk"]["S"])


Answer = tuple[list[dict[str, Any]], bool]  # a shard's items, and whether it holds more


def _by_status(
    table: str, family: str, limit: int, *, condition: str, values: dict[str, Any], newest_first: bool
) -> Answer:
    """`limit` items of a by_status family in created order, merged over its shards (read side by
    side), and whether there are more. `condition` narrows created_sk (`:v` is each shard's key)."""
    db = client("dynamodb")

    def read(shard_key: str) -> Answer:
        response = db.query(
            TableName=table,
            IndexName="by_status",
            KeyConditionExpression="status_pk = :v" + (f" AND {condition}" if condition else ""),
            ExpressionAttributeValues={":v": {"S": shard_key}, **values},
            ScanIndexForward=not newest_first,
            Limit=limit,
        )
        return response.get("Items", []), "LastEvaluatedKey" in response

    answers = fan_out(read, every_shard(family, STATUS_SHARDS))
    return merge(answers, limit, _created, newest_first=newest_first)


def fetched(table: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items the entries of a keys-only index point at, in the entries' order; an item removed
    since is left out. The entries are an index's (eventually consistent), the items are read as of now."""
    keys = [{"pk": entry["pk"], "sk": entry["sk"]} for entry in entries]
    found: list[dict[str, Any] | None] = []
    for start in range(0, len(keys), FETCH_CHUNK):
        found.extend(get_together(table, keys[start : start + FETCH_CHUNK]))
    return [item for item in found if item is not None]


def created_before_on_index(table: str, family: str, before: str, limit: int) -> list[dict[str, Any]]:
    """Items of a by_status family created before the moment, oldest first (read by key: the index
    holds keys only, so the caller checks that each is still in the status)."""
    entries, _ = _by_status(
        table,
        family,
        limit,
        condition="created_sk < :before",
        values={":before": {"S": before}},
        newest_first=False,
    )
    return fetched(table, entries)


# ----------------------------------------------------------------------------- repository


class DynamoPaymentRepository(TableAdapter):
    def get(self, payment_id: str) -> Payment | None:
        response = self._db.get_item(TableName=self.table, Key=payment_key(payment_id), ConsistentRead=True)
        item = response.get("Item")
        return payment_from_item(item) if item else None

    def create(self, change: Change) -> bool:
        payment = change.payment
        operations = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": payment_to_item(payment),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            self._put_event(change.event),
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item(
                        {
                            "pk": f"ORDER#{payment.order_id}",
                            "sk": "ORDER",
                            "payment_id": payment.id,
                            "customer_id": payment.customer_id,
                            "live": True,
                        }
                    ),
                    # One live payment per order (free, released by a failed/canceled one, or ours), and
                    # one customer: the first payment binds the order to its customer for good (the
                    # release keeps customer_id). Claims from before the binding name no customer.
                    "ConditionExpression": "attribute_not_exists(pk) OR "
                    "((customer_id = :customer OR attribute_not_exists(customer_id)) "
                    "AND (live = :false OR payment_id = :id))",
                    "ExpressionAttributeValues": {
                        ":false": {"BOOL": False},
                        ":id": {"S": payment.id},
                        ":customer": {"S": payment.customer_id},
                    },
                }
            },
        ]
        reasons = self._transact(operations)
        if reasons is None:
            return True
        if reasons[0] == "ConditionalCheckFailed":
            return False
        if reasons[2] == "ConditionalCheckFailed":
            raise self._order_conflict(payment)
        raise ConcurrentUpdate("the payment could not be created; retry", payment_id=payment.id)

    def save(self, change: Change, refunds: Sequence[RefundWrite] = ()) -> None:
        payment = change.payment
        operations = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": payment_to_item(payment),
                    "ConditionExpression": "version = :expected",
                    "ExpressionAttributeValues": {":expected": value(payment.version - 1)},
                }
            },
            self._put_event(change.event),
        ]
        if change.event.event_type in RELEASING_EVENTS:
            # The change that ends the payment frees its order; later changes of an ended payment (a
            # stray intent recorded) leave the claim alone: the order may be another payment's now.
            operations.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _order_key(payment.order_id),
                        "UpdateExpression": "SET live = :false",
                        "ConditionExpression": "payment_id = :id",
                        "ExpressionAttributeValues": {":false": {"BOOL": False}, ":id": {"S": payment.id}},
                    }
                }
            )
        operations.extend({"Put": refund_put(self.table, w.refund, w.previous)} for w in refunds)
        reasons = self._transact(operations)
        if reasons is None:
            return
        # The payment's version, or a refund's condition (its status), moved on: decide
        # again on what is there now.
        raise ConcurrentUpdate(f"payment {payment.id} changed concurrently", payment_id=payment.id)

    def get_with_refunds(self, payment_id: str) -> tuple[Payment | None, list[Refund]]:
        """STATE and REFUND# items in one query: "REFUND#..." < "STATE" and EVENT# sorts before both."""
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND sk >= :from",
            ExpressionAttributeValues={":pk": {"S": f"PAYMENT#{payment_id}"}, ":from": {"S": "REFUND#"}},
            ConsistentRead=True,
        )
        payment = None
        refunds: list[Refund] = []
        for item in items:
            sk = item["sk"]["S"]
            if sk == STATE:
                payment = payment_from_item(item)
            elif sk.startswith(PREFIX):
                refunds.append(refund_from_item(item))
        return payment, refunds

    def history(self, payment_id: str) -> list[DomainEvent]:
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"PAYMENT#{payment_id}"}, ":prefix": {"S": "EVENT#"}},
            ConsistentRead=True,
        )
        return [event_from_item(item) for item in items]

    def list_by_customer(self, customer_id: str, limit: int, start: dict[str, Any] | None) -> Page[Payment]:
        return self._page("by_customer", "customer_pk", f"CUSTOMER#{customer_id}", limit, start)

    def list_by_status(self, status: str, limit: int, start: dict[str, Any] | None) -> Page[Payment]:
        """Newest first over the status's shards; the cursor is the last created_sk returned."""
        condition, values = "", {}
        if start is not None:
            before = start.get("created_before")
            if not isinstance(before, str):
                raise InvalidCursor("the cursor is not one of this listing", param="cursor")
            condition, values = "created_sk < :before", {":before": {"S": before}}
        entries, more = _by_status(
            self.table, status_family(status), limit, condition=condition, values=values, newest_first=True
        )
        next_key = {"created_before": _created(entries[-1])} if more and entries else None
        # A payment that left the status since the index was written is left out (a page may be short).
        payments = [payment_from_item(item) for item in fetched(self.table, entries)]
        return Page([p for p in payments if str(p.status) == status], next_key)

    def payment_of_order(self, order_id: str) -> Payment | None:
        """Two GetItems: the ORDER# claim, then the STATE of the payment it names (the claim keeps one
        payment id: its live payment, else the last one released). A claim and its payment are written
        in one transaction, so a claim always names a stored payment; should a later payment take the
        claim between the reads, the one found is the payment the claim named a moment before."""
        response = self._db.get_item(TableName=self.table, Key=_order_key(order_id), ConsistentRead=True)
        payment_id = from_item(response.get("Item", {})).get("payment_id")
        return self.get(payment_id) if isinstance(payment_id, str) else None

    def stale(self, status: str, created_before: str, limit: int) -> list[Payment]:
        """Payments in `status` created before the moment, oldest first (the by_status index)."""
        items = created_before_on_index(self.table, status_family(status), created_before, limit)
        payments = [payment_from_item(item) for item in items]
        return [payment for payment in payments if str(payment.status) == str(status)]

    def held_for_review(self, opened_before: str, limit: int) -> list[Payment]:
        """Payments on the holds index whose hold opened before the moment, oldest first."""
        response = self._db.query(
            TableName=self.table,
            IndexName="holds",
            KeyConditionExpression="hold_pk = :holds AND hold_sk < :before",
            ExpressionAttributeValues={":holds": {"S": HOLDS}, ":before": {"S": opened_before}},
            Limit=limit,
        )
        return [payment_from_item(item) for item in response.get("Items", [])]

    def mark_published(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            try:
                self._db.update_item(
                    TableName=self.table,
                    Key={"pk": {"S": f"PAYMENT#{event.payment_id}"}, "sk": {"S": _event_sk(event.version)}},
                    UpdateExpression="REMOVE outbox_pk",
                    ConditionExpression="attribute_exists(pk)",
                )
            except self._db.exceptions.ConditionalCheckFailedException:
                continue

    def unpublished(self, older_than: str, limit: int) -> list[DomainEvent]:
        """The oldest `limit` events still marked, over every outbox shard (read side by side)."""
        db = self._db

        def read(shard_key: str) -> Answer:
            response = db.query(
                TableName=self.table,
                IndexName="outbox",
                KeyConditionExpression="outbox_pk = :shard AND occurred_at < :before",
                ExpressionAttributeValues={":shard": {"S": shard_key}, ":before": {"S": older_than}},
                Limit=limit,
            )
            return response.get("Items", []), "LastEvaluatedKey" in response

        entries, _ = merge(fan_out(read, every_shard(OUTBOX, OUTBOX_SHARDS)), limit, _occurred)
        # Keys only: the events are read by key; one published since (no mark left) is left out.
        return [event_from_item(item) for item in fetched(self.table, entries) if "outbox_pk" in item]

    # ------------------------------------------------------------------------- internals

    def _put_event(self, event: DomainEvent) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table,
                "Item": event_to_item(event),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _transact(self, operations: list[dict[str, Any]]) -> list[str] | None:
        """Run the transaction; None on success, else each item's cancellation reason code when a
        condition failed. Transient cancellations are retried, then raise StoreUnavailable."""
        for attempt in range(TRANSACT_ATTEMPTS):
            try:
                self._db.transact_write_items(TransactItems=operations)
            except self._db.exceptions.TransactionCanceledException as error:
                reasons = error.response.get("CancellationReasons") or []
                codes = [r.get("Code", "None") for r in reasons]
                codes += ["None"] * (len(operations) - len(codes))
                if "ConditionalCheckFailed" in codes or not TRANSIENT_REASONS.intersection(codes):
                    return codes
            except (
                self._db.exceptions.TransactionConflictException,
                self._db.exceptions.ProvisionedThroughputExceededException,
                self._db.exceptions.RequestLimitExceeded,
                self._db.exceptions.ThrottlingException,
                self._db.exceptions.InternalServerError,
            ):
                pass  # botocore's own retries were not enough either
            else:
                return None
            time.sleep(random.uniform(0, BACKOFF_BASE_SECONDS * 2**attempt))  # noqa: S311 - jitter
        raise StoreUnavailable("the payment store is busy; retry the request with the same Idempotency-Key")

    def _order_conflict(self, payment: Payment) -> Conflict:
        item = self._db.get_item(TableName=self.table, Key=_order_key(payment.order_id), ConsistentRead=True)
        claim = from_item(item.get("Item", {}))
        if claim.get("customer_id", payment.customer_id) != payment.customer_id:
            # Neither paid nor blocked by anyone else; who holds it is not told.
            return Conflict(
                "order_customer_mismatch", "the order belongs to another customer", param="order_id"
            )
        holder_id = claim.get("payment_id")
        holder = self.get(holder_id) if holder_id else None
        paid = holder is not None and holder.status in PAID
        code = "order_already_paid" if paid else "payment_in_progress"
        detail = "the order is already paid" if paid else "another payment for this order is in progress"
        # Name the other payment only to its own customer.
        same_customer = holder is not None and holder.customer_id == payment.customer_id
        return Conflict(code, detail, payment_id=holder_id if same_customer else None, param="order_id")

    def _page(
        self, index: str, key: str, key_value: str, limit: int, start: dict[str, Any] | None
    ) -> Page[Payment]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": f"{key} = :v",
            "ExpressionAttributeValues": {":v": {"S": key_value}},
            "ScanIndexForward": False,  # newest first
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = to_item(start)
        response = self._db.query(**request)
        items = [payment_from_item(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return Page(items, from_item(last) if last else None)
