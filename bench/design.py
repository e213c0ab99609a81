"""The fewest requests each operation's common path needs, and why each one is needed.

The benchmark counts what the code does and sets it beside this list; tests/bench holds the two equal.
The items named (STATE, EVENT#, REFUND#, PM#, OWNER, CARD#) are those of docs/architecture.md, Data model;
the ledger's JOURNAL# entries and the reconciliation table's RUN# SUMMARY and DIFF# items those of
docs/ledger.md; PAYOUT# the payouts subscriber's record (payments/adapters/dynamodb/payouts.py).
Counts are per warm call (a cold container also reads its secrets once: Secrets Manager is cached for
SECRETS_MAX_AGE_SECONDS).

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

# The write shards of payments.adapters.dynamodb.shards (tests/bench/test_partition_heat.py holds them
# equal; the bench's parent process does not import the service): each shard is a partition of its
# own, so reading a family is one Query per shard.
JOURNAL_SHARDS = 16  # the ledger's, per currency and day
STATUS_SHARDS = 32  # by_status: each status, and the refunds awaiting Stripe
OUTBOX_SHARDS = 64  # the outbox index


@dataclass(frozen=True)
class Need:
    request: str  # service:operation, as the meter names them (Stripe: method and path)
    why: str
    count: int = 1


def _api_write(*needs: Need) -> list[Need]:
    """An API call with an Idempotency-Key: the key claimed before the work, the answer stored after it."""
    return [
        Need("dynamodb:PutItem", "claim the Idempotency-Key (conditional put of an in-progress record)"),
        *needs,
        Need("dynamodb:UpdateItem", "store the answer under the key for replays"),
    ]


def _publish(events: str, marks: int = 1) -> list[Need]:
    """The call's events in one PutEvents after its last commit, then each EVENT# item's outbox mark."""
    return [
        Need("events:PutEvents", events),
        Need("dynamodb:UpdateItem", "clear the outbox mark of each published EVENT# item", marks),
    ]


def _change_intent(action: str, read: str, write: str, event: str) -> list[Need]:
    """Capture and cancel: read the payment, ask Stripe, record its answer, publish."""
    return _api_write(
        Need("dynamodb:GetItem", f"the payment: {read}"),
        Need(f"stripe:POST /v1/payment_intents/{{id}}/{action}", action),
        Need("dynamodb:TransactWriteItems", write),
        *_publish(event),
    )


def _journal(why: str, days: int = 1) -> Need:
    """One currency's journal over `days` days: every shard of every day is read (Query per partition)."""
    return Need(
        "dynamodb:Query",
        f"{why}: {days} day(s) x {JOURNAL_SHARDS} shards, one query each",
        days * JOURNAL_SHARDS,
    )


def _reconciliation_run(*stripe_reads: Need, journal: str) -> list[Need]:
    """A first run of a period or a payout whose books are clean (no DIFF# item to write or delete):
    the run started, both sides read, the result stored and announced."""
    return [
        Need(
            "dynamodb:PutItem",
            "start: the run's SUMMARY `running`, a conditional create (a run already there, which "
            "happens on a re-run only, is read when the condition fails)",
        ),
        *stripe_reads,
        _journal(journal, days=3),
        Need("dynamodb:PutItem", "the SUMMARY `completed`, conditional on its attempt"),
        Need("events:PutEvents", "ReconciliationCompleted"),
    ]


MINIMUM: dict[str, list[Need]] = {
    "process_payment": _api_write(
        Need(
            "dynamodb:TransactGetItems",
            "an earlier attempt (its risk decision is not made twice), the method's OWNER (a saved card must "
            "be the caller's) and the caller's PM# (a saved card's fingerprint and country)",
        ),
        # The checks before Stripe, for a one-off card (the sample's): docs/risk.md, Checks before Stripe.
        # The rules are cached while warm (RISK_RULES_CACHE_SECONDS).
        Need("dynamodb:TransactGetItems", "the blocklist entries of the customer, before Stripe is asked"),
        Need("stripe:GET /v1/payment_methods/{id}", "a one-off card's fingerprint, country: never a charge"),
        Need("dynamodb:TransactGetItems", "the blocklist entries of the card's fingerprint and country"),
        Need(
            "dynamodb:UpdateItem",
            "count the attempt for its customer, card and source address (ADD, each reads its own count)",
            3,
        ),
        Need("dynamodb:Query", "each subject's earlier hours of its window (consistent)", 3),
        Need("dynamodb:TransactWriteItems", "write ahead: STATE pending + EVENT#1 + the order's live claim"),
        Need(
            "stripe:POST /v1/payment_intents",
            "create and confirm the PaymentIntent (idempotency key pay_X:create)",
        ),
        Need("dynamodb:TransactWriteItems", "record Stripe's answer: STATE on version + EVENT#2"),
        *_publish("PaymentInitiated and PaymentProcessed, one batch", marks=2),
    ),
    "get_payment": [Need("dynamodb:Query", "STATE and REFUND# items of the payment in one query")],
    "list_payments": [Need("dynamodb:Query", "one page of the customer's payments (by_customer index)")],
    "get_payment_history": [Need("dynamodb:Query", "the payment's EVENT# items")],
    "capture_payment": _change_intent(
        "capture", "capturable? which PaymentIntent?", "STATE on version + EVENT#", "PaymentCaptured"
    ),
    "cancel_payment": _change_intent(
        "cancel",
        "owner? cancelable? which PaymentIntent?",
        "STATE on version + EVENT# + release the order's claim",
        "PaymentCanceled",
    ),
    "refund_payment": _api_write(
        Need(
            "dynamodb:TransactGetItems",
            "the payment's STATE and the (new) REFUND# item as of one moment (a refund's status changes "
            "with its payment's version)",
        ),
        Need("dynamodb:TransactWriteItems", "reserve: STATE amounts on version + REFUND# pending + EVENT#"),
        Need("stripe:POST /v1/refunds", "refund (idempotency key rfd_X:create)"),
        Need("dynamodb:TransactWriteItems", "record Stripe's answer: STATE + REFUND# + EVENT#"),
        *_publish("RefundRequested and RefundIssued, one batch", marks=2),
    ),
    "save_payment_method": _api_write(
        Need(
            "stripe:GET /v1/payment_methods/{id}",
            "the card's fingerprint and current customer, before attaching",
        ),
        Need(
            "dynamodb:TransactGetItems",
            "owner of the method, the caller's Stripe customer, method and card items",
        ),
        Need("stripe:POST /v1/payment_methods/{id}/attach", "attach to the caller's Stripe customer"),
        Need("dynamodb:TransactWriteItems", "PM# + OWNER + CARD# items together"),
        Need("events:PutEvents", "PaymentMethodSaved (published synchronously, no outbox)"),
    ),
    "list_payment_methods": [Need("dynamodb:Query", "the caller's PM# items")],
    "get_payment_method": [
        Need("dynamodb:GetItem", "CUSTOMER#/PM# (keyed by the caller: no ownership read)")
    ],
    "delete_payment_method": _api_write(
        Need("dynamodb:GetItem", "the caller's method"),
        Need("stripe:POST /v1/payment_methods/{id}/detach", "detach in Stripe"),
        Need("events:PutEvents", "PaymentMethodDeleted"),
        Need("dynamodb:TransactWriteItems", "remove PM# + OWNER + CARD# together"),
    ),
    "ledger_balances": [_journal("the period's journal entries, summed per account (the period: today)")],
    "ledger_entries": [
        _journal(
            "a page of the period's journal (today): each shard's next `limit` entries, merged oldest first"
        )
    ],
    "stripe_webhook": [
        Need("dynamodb:PutItem", "dedupe: claim the Stripe event id"),
        Need("events:PutEvents", "forward the event to the bus"),
        Need("dynamodb:UpdateItem", "mark the event id done"),
    ],
    "payment_status": [
        Need("dynamodb:GetItem", "the payment named in the intent's metadata; no write when it already knows")
    ],
    "refunds": [
        Need(
            "dynamodb:TransactGetItems",
            "the payment and its refund as of one moment: nothing to write when our API recorded it",
        )
    ],
    "disputes": [
        Need(
            "stripe:GET /v1/payment_intents/{id}",
            "a dispute names the intent; our payment id is in its metadata",
        ),
        Need("dynamodb:GetItem", "the payment"),
        Need("dynamodb:TransactWriteItems", "STATE dispute + EVENT#"),
        *_publish("ChargebackReceived"),
        Need("dynamodb:GetItem", "the dispute's DISPUTE# record (the admins' read model)"),
        Need("dynamodb:PutItem", "the record, conditional on its version (attribute_not_exists if new)"),
    ],
    "list_disputes": [
        Need("dynamodb:Query", "one page of a status, soonest due first (the sparse disputes index)")
    ],
    "get_dispute": [
        Need("dynamodb:GetItem", "the DISPUTE# record"),
        Need("stripe:GET /v1/disputes/{id}", "the evidence as Stripe holds it (too large for the record)"),
    ],
    "submit_dispute_evidence": _api_write(
        Need("dynamodb:GetItem", "the DISPUTE# record: one of ours, not closed, its payment"),
        Need("stripe:POST /v1/files", "upload the file (Files API, purpose dispute_evidence)"),
        Need("stripe:POST /v1/disputes/{id}", "stage the evidence with the file's id"),
        Need("dynamodb:PutItem", "the record from Stripe's answer and the file, on the version read"),
    ),
    "accept_dispute": _api_write(
        Need("dynamodb:GetItem", "the DISPUTE# record: one of ours, its payment"),
        Need("stripe:POST /v1/disputes/{id}/close", "accept: Stripe closes the dispute lost"),
        Need("dynamodb:PutItem", "the record from Stripe's answer, on the version read"),
    ),
    "fraud_signals": [
        Need(
            "stripe:GET /v1/radar/early_fraud_warnings/{id}",
            "the warning as Stripe has it now (never the event's word), its PaymentIntent expanded: "
            "actionable? and our payment id in its metadata",
        ),
        Need(
            "dynamodb:TransactGetItems",
            "the payment and the warning's REFUND# item (its id derives from the warning) as of one moment",
        ),
        Need("dynamodb:TransactWriteItems", "FraudWarningReceived: STATE risk on version + EVENT#"),
        Need(
            "dynamodb:TransactWriteItems",
            "reserve the rest: STATE amounts on version + REFUND# pending + EVENT#",
        ),
        Need("stripe:POST /v1/refunds", "refund, reason fraudulent (idempotency key rfd_X:create)"),
        Need("dynamodb:TransactWriteItems", "record Stripe's answer: STATE + REFUND# + EVENT#"),
        *_publish("FraudWarningReceived, RefundRequested and RefundIssued, one batch", marks=3),
    ],
    "payouts": [
        Need(
            "dynamodb:GetItem", "the PAYOUT# record: the status our books have the payout in, and its version"
        ),
        Need(
            "dynamodb:PutItem",
            "the record moved forward, conditional on the version it replaces (attribute_not_exists if new)",
        ),
        Need(
            "events:PutEvents",
            "PayoutPaid, after the write (a failed publish fails the delivery: its retry "
            "finds the record moved and republishes)",
        ),
    ],
    "accounting": [Need("dynamodb:PutItem", "the journal entry, conditional on the source event id")],
    "reconcile": _reconciliation_run(
        Need(
            "stripe:GET /v1/payouts/{id}",
            "the payout as Stripe has it now (its reconciliation_status moves after payout.paid)",
        ),
        Need(
            "stripe:GET /v1/balance_transactions",
            "the payout's own lines (?source=) and what it paid out (?payout=), one page each",
            2,
        ),
        journal="our entries of the payout's day and a day either side",
    ),
    "start_reconciliation_run": _api_write(
        *_reconciliation_run(
            Need(
                "stripe:GET /v1/balance_transactions",
                "Stripe's lines of the day and a day either side (one page), their sources expanded",
            ),
            journal="our entries over the same three days",
        )
    ),
    "list_reconciliation_runs": [
        Need("dynamodb:Query", "one page of runs, the most recently started first (the sparse runs index)")
    ],
    "get_reconciliation_run": [
        Need(
            "dynamodb:GetItem",
            "the run's SUMMARY (a page of differences does not reach it: it sorts after them)",
        ),
        Need("dynamodb:Query", "a page of the run's DIFF# items, in order"),
    ],
    "get_reconciliation_differences": [
        Need(
            "dynamodb:Query",
            "the run's partition whole: every DIFF# item and, sorting after them, its SUMMARY (completed?)",
        )
    ],
    "risk_get_rules": [Need("dynamodb:GetItem", "the RULES item (absent: the defaults are in force)")],
    "risk_put_rules": _api_write(
        Need(
            "dynamodb:GetItem", "the rules stored now: is the body's version current, and the audit's before"
        ),
        Need("dynamodb:TransactWriteItems", "the RULES item on the version it replaces, with its AUDIT item"),
        Need(
            "events:PutEvents",
            "RiskRulesChanged (a failed publish fails the request: its retry finds the change, republishes)",
        ),
    ),
    "risk_list_blocklist": [
        Need("dynamodb:Query", "one page of entries (the sparse blocklist index), expired ones filtered out")
    ],
    "risk_add_blocklist_entry": _api_write(
        Need(
            "dynamodb:TransactWriteItems",
            "the BLOCK# entry (unless one is in force for its value), its BLOCKID# record, the AUDIT item; "
            "no read first: a retry is told by the BLOCKID# condition",
        ),
        Need("events:PutEvents", "BlocklistEntryAdded"),
    ),
    "risk_remove_blocklist_entry": _api_write(
        Need(
            "dynamodb:GetItem", "the BLOCKID# record: what the entry blocks (its key) and the audit's before"
        ),
        Need(
            "dynamodb:TransactWriteItems",
            "delete the BLOCK# entry (still this one), tombstone its BLOCKID# record, the AUDIT item",
        ),
        Need("events:PutEvents", "BlocklistEntryRemoved"),
    ),
    "risk_list_audit": [Need("dynamodb:Query", "one page of the AUDIT partition, newest first")],
    "outbox_relay": [
        Need(
            "dynamodb:Query",
            f"the sparse outbox index, one query per shard ({OUTBOX_SHARDS} shards, side by side)",
            OUTBOX_SHARDS,
        )
    ],
    "dispute_deadlines": [
        Need(
            "dynamodb:Query",
            "disputes due within 72 hours, per status needing a response (the disputes index), none to "
            "announce",
            2,
        )
    ],
    "janitor": [
        Need(
            "dynamodb:Query",
            f"payments still pending past the threshold (by_status index, {STATUS_SHARDS} shards)",
            STATUS_SHARDS,
        ),
        Need(
            "dynamodb:Query",
            f"refunds still waiting for Stripe past the threshold (by_status index, {STATUS_SHARDS} shards)",
            STATUS_SHARDS,
        ),
        # The rules' review_hold_hours are cached while warm (RISK_RULES_CACHE_SECONDS).
        Need("dynamodb:Query", "review holds opened before now - review_hold_hours (the sparse holds index)"),
    ],
}


def minimum_requests(op: str) -> dict[str, int]:
    """service:operation -> count for one warm call of `op` ({} for an operation not listed)."""
    counts: dict[str, int] = {}
    for need in MINIMUM.get(op, []):
        counts[need.request] = counts.get(need.request, 0) + need.count
    return counts


def minimum_by_service(op: str) -> dict[str, int]:
    """Requests per service (dynamodb, stripe, events) for one warm call of `op` ({} when not listed)."""
    if op not in MINIMUM:
        return {}
    totals = dict.fromkeys(("dynamodb", "stripe", "events"), 0)
    for request, count in minimum_requests(op).items():
        service = request.split(":", 1)[0]
        totals[service] = totals.get(service, 0) + count
    return totals
