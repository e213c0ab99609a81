"""Write the sample events and the domain events' JSON Schemas (`make schemas`); tests load all of them.

    python -m tools.samples            # everything
    python -m tools.samples schemas    # events/schemas only (after changing a model)

- events/schemas/<EventType>.json: generated from payments.domain.events (a test fails on drift).
- events/stripe/<type>.json: one Stripe event per type the webhook forwards, captured from the Stripe
  emulator through the official SDK, then sanitized (stable ids, fixed times, no client secrets).
  `payment_intent.processing` is derived from `payment_intent.requires_action`: cards never process
  asynchronously, so neither Stripe's test cards nor the emulator produce it.
- events/bus/<EventType>.json: each domain event as a subscriber receives it from EventBridge, made
  by our domain code from those Stripe samples (refund and payment-method ones from their models).
- events/api/<function>.json: one realistic API Gateway REST event per catalog route (but Stripe's
  webhook, whose samples are the Stripe events); tests invoke every one.

Every id and time is fixed, so regenerating unchanged code rewrites the same bytes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import sys
import uuid
from typing import Any

from infra import catalog
from infra.local.apigw import build_rest_event, cognito_claims
from tools import ROOT

EVENTS = ROOT / "events"
AT = "2026-11-26T12:00:00.000Z"
BASE_TIME = 1795694400  # AT as a Unix time
REQUEST_TIME = "26/Nov/2026:12:00:00 +0000"  # AT as API Gateway writes a request's time
TIME_KEYS = frozenset({"created", "available_on", "canceled_at"})
CUSTOMER = "cus_example"
ADMIN = "admin-1"
SERVICE = "svc-checkout"  # a service's app client (client credentials)
PAYMENTS = {  # which sample payment each PaymentIntent belongs to
    "paid": "pay_samplepaid0000000000000",
    "declined": "pay_sampledeclined000000000",
    "three_d_secure": "pay_sample3ds00000000000000",
    "captured": "pay_samplecaptured000000000",
    "canceled": "pay_samplecanceled000000000",
    "refund_fails": "pay_samplerefundfails000000",
    "dispute_lost": "pay_sampledisputelost000000",
    "dispute_won": "pay_sampledisputewon0000000",
    "async_fee": "pay_sampleasyncfee000000000",
    "elevated": "pay_sampleelevated000000000",
    "fraud_warning": "pay_samplefraudwarning00000",
}
AMOUNT = 2599
CAPTURED = 2000  # of AMOUNT: the samples' partial capture


# --------------------------------------------------------------------------- schemas


def schemas() -> dict[str, dict[str, Any]]:
    from payments.domain.events import DETAIL_MODELS, detail_schema

    return {event_type: detail_schema(event_type) for event_type in DETAIL_MODELS}


# --------------------------------------------------------------------------- Stripe events


def capture_stripe_events() -> list[dict[str, Any]]:
    """Every event of the flows below, oldest first, as the emulator delivered them."""
    import stripe

    from infra.local.stripe_emulator import StripeEmulator

    with StripeEmulator() as emulator:
        client = stripe.StripeClient(
            "sk_test_samples", base_addresses={"api": emulator.url}, max_network_retries=0
        )

        def pay(flow: str, payment_method: str = "pm_card_visa", **params: Any) -> Any:
            body: Any = {  # the SDK's TypedDict, built up
                "amount": AMOUNT,
                "currency": "usd",
                "payment_method": payment_method,
                "confirm": True,
                "metadata": {
                    "payment_id": PAYMENTS[flow],
                    "order_id": f"order-{flow}",
                    "customer_id": CUSTOMER,
                },
                **params,
            }
            if "return_url" not in params:
                body["automatic_payment_methods"] = {"enabled": True, "allow_redirects": "never"}
            return client.v1.payment_intents.create(params=body)

        paid = pay("paid")
        client.v1.refunds.create(params={"payment_intent": paid.id, "amount": 500})
        with contextlib.suppress(stripe.CardError):  # the decline is the point
            pay("declined", "pm_card_chargeDeclinedInsufficientFunds")
        pay("three_d_secure", "pm_card_authenticationRequired", return_url="https://shop.example/done")
        held = pay("captured", capture_method="manual")
        # A partial capture: Stripe releases the rest of the authorization (PaymentCaptured says how much).
        client.v1.payment_intents.capture(held.id, params={"amount_to_capture": CAPTURED})
        client.v1.payment_intents.cancel(pay("canceled", capture_method="manual").id)
        pending = client.v1.refunds.create(
            params={"payment_intent": pay("refund_fails", "pm_card_refundFail").id}
        )
        emulator.fail_refund(pending.id)
        lost = emulator.create_dispute(pay("dispute_lost").id, reason="product_not_received")
        client.v1.disputes.update(
            lost["id"], params={"evidence": {"uncategorized_text": "Delivered on time."}}
        )
        emulator.close_dispute(lost["id"], won=False)
        won = emulator.create_dispute(pay("dispute_won").id)
        emulator.close_dispute(won["id"], won=True)
        # Asynchronous balance transactions: the fee comes later, in charge.updated.
        emulator.settle_balance_transactions(pay("async_fee", capture_method="automatic_async").id)
        # Payouts: a manual one canceled before it left, then the schedule's, which the bank returns
        # (a sale made at Stripe directly first: the disputes above left too little to pay out).
        emulator.direct_charge(10_000)
        manual = client.v1.payouts.create(params={"amount": 100, "currency": "usd"})
        client.v1.payouts.cancel(manual.id)
        (scheduled,) = emulator.run_payouts("usd")
        emulator.fail_payout(scheduled["id"], "account_closed")
        # Radar: an elevated-risk charge in review, approved; an early fraud warning, refunded.
        client.v1.reviews.approve(str(pay("elevated", "pm_card_riskLevelElevated").review))
        warned = pay("fraud_warning", "pm_card_createIssuerFraudRecord")
        client.v1.refunds.create(params={"payment_intent": warned.id, "reason": "fraudulent"})
        return sanitize(emulator.events())


def sanitize(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stable ids (numbered per prefix in order of appearance), fixed times, no secrets."""
    text = json.dumps(events)
    names: dict[str, str] = {}
    counters: dict[str, int] = {}

    def rename(match: re.Match[str]) -> str:
        original, prefix = match.group(0), match.group(1)
        if original not in names:
            counters[prefix] = counters.get(prefix, 0) + 1
            names[original] = f"{prefix}_sample{counters[prefix]:02d}"
        return names[original]

    text = re.sub(r"_secret_[A-Za-z0-9]+", "_secret_redacted", text)
    text = re.sub(r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:12111", text)  # the emulator of `make dev`
    references: dict[str, str] = {}
    text = re.sub(
        r'"reference": "(\d+)"',
        lambda m: f'"reference": "{references.setdefault(m.group(1), str(len(references) + 1).zfill(23))}"',
        text,
    )
    text = re.sub(
        r"\b(evt|pi|ch|txn|dp|re|pm|cus|req|py|prv|issfr)_(?!sample|card_)[A-Za-z0-9]{10,}(?![A-Za-z0-9])",
        rename,
        text,
    )
    cleaned: list[dict[str, Any]] = json.loads(text)
    for event in cleaned:
        _fix_times(event)
        event["pending_webhooks"] = 1
        if event.get("request", {}).get("idempotency_key"):
            event["request"]["idempotency_key"] = "sample-idempotency-key"
    return cleaned


def _fix_times(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in TIME_KEYS and isinstance(item, int):
                value[key] = BASE_TIME
            elif key == "due_by" and isinstance(item, int):
                value[key] = BASE_TIME + 7 * 24 * 3600
            else:
                _fix_times(item)
    elif isinstance(value, list):
        for item in value:
            _fix_times(item)


def stripe_samples(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The first event of each forwarded type (plus the derived payment_intent.processing)."""
    forwarded = catalog.forwarded_stripe_events()
    samples: dict[str, dict[str, Any]] = {}
    for event in events:
        if event["type"] in forwarded:
            samples.setdefault(event["type"], event)
    processing = json.loads(json.dumps(samples["payment_intent.requires_action"]))
    processing.update(id="evt_sampleprocessing", type="payment_intent.processing")
    processing["data"]["object"].update(status="processing", next_action=None)
    samples["payment_intent.processing"] = processing
    missing = set(forwarded) - samples.keys()
    if missing:
        raise RuntimeError(f"the flows produced no sample of {sorted(missing)}")
    return samples


# --------------------------------------------------------------------------- domain events on the bus


def bus_samples(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each domain event as our code makes it from the Stripe samples, in its EventBridge envelope."""
    from payments.adapters.stripe.gateway import intent_snapshot
    from payments.application.disputes import DisputeObject
    from payments.domain.dispute import apply_dispute
    from payments.domain.events import DomainEvent
    from payments.domain.payment import Change, Payment, PaymentStatus

    def payment(flow: str, capture: str = "automatic") -> Payment:
        return Payment(
            id=PAYMENTS[flow],
            order_id=f"order-{flow}",
            customer_id=CUSTOMER,
            amount=AMOUNT,
            currency="usd",
            payment_method_id="pm_card_visa",
            capture_method="manual" if capture == "manual" else "automatic",
            created_at=AT,
            updated_at=AT,
            version=1,
        )

    def intent(flow: str, event_type: str) -> dict[str, Any]:
        return next(
            e["data"]["object"]
            for e in events
            if e["type"] == event_type and e["data"]["object"]["metadata"].get("payment_id") == PAYMENTS[flow]
        )

    def apply(current: Payment, obj: dict[str, Any], fee: int | None = None) -> Change:
        snapshot = dataclasses.replace(intent_snapshot(obj), fee=fee)
        change = current.apply_intent(snapshot, AT)
        assert change is not None, obj["status"]
        return change

    fee = 105  # the emulator's fee on 25.99 usd (2.9% + 30)
    found: dict[str, DomainEvent] = {}
    start = payment("paid")
    found["PaymentInitiated"] = DomainEvent.about(start, "PaymentInitiated", AT)
    paid = apply(start, intent("paid", "payment_intent.succeeded"), fee)
    found["PaymentProcessed"] = paid.event
    # Asynchronous balance transactions: the charge is booked without a fee, which comes later.
    unfeed = apply(start, intent("paid", "payment_intent.succeeded"), None).payment
    late_fee = unfeed.record_fee(
        dataclasses.replace(intent_snapshot(intent("paid", "payment_intent.succeeded")), fee=fee), AT
    )
    assert late_fee is not None
    found["PaymentFeeRecorded"] = late_fee.event
    # A failed attempt is recorded once we closed it at Stripe: the canceled intent keeps its error.
    declined = {**intent("declined", "payment_intent.payment_failed"), "status": "canceled"}
    failed = apply(payment("declined"), declined)
    found["PaymentFailed"] = failed.event
    stray = failed.payment.record_stray("pi_sample_stray01", "refunded", AT)
    assert stray is not None
    found["StrayChargeDetected"] = stray.event
    three_ds = intent("three_d_secure", "payment_intent.requires_action")
    found["PaymentRequiresAction"] = apply(payment("three_d_secure"), three_ds).event
    found["PaymentProcessing"] = apply(payment("three_d_secure"), {**three_ds, "status": "processing"}).event
    held = apply(
        payment("captured", "manual"), intent("captured", "payment_intent.amount_capturable_updated")
    )
    found["PaymentAuthorized"] = held.event
    # The fee on the 20.00 captured.
    found["PaymentCaptured"] = apply(held.payment, intent("captured", "payment_intent.succeeded"), 88).event
    canceled = payment("canceled", "manual")
    found["PaymentCanceled"] = apply(canceled, intent("canceled", "payment_intent.canceled")).event

    refund = {"id": "rfd_sample01", "amount": 500, "currency": "usd", "reason": None, "failure_reason": None}
    refunded = dataclasses.replace(paid.payment, version=paid.payment.version + 1)
    found["RefundRequested"] = DomainEvent.about(
        dataclasses.replace(refunded, amount_refund_pending=500, refund_count=1),
        "RefundRequested",
        AT,
        refund={**refund, "status": "pending", "stripe_refund_id": None},
    )
    refunded = dataclasses.replace(
        refunded, version=refunded.version + 1, refund_count=1, amount_refunded=500
    )
    found["RefundIssued"] = DomainEvent.about(
        dataclasses.replace(refunded, status=PaymentStatus.PARTIALLY_REFUNDED),
        "RefundIssued",
        AT,
        refund={**refund, "status": "succeeded", "stripe_refund_id": "re_sample01"},
    )
    found["RefundFailed"] = DomainEvent.about(
        dataclasses.replace(refunded, version=refunded.version + 1, amount_refunded=0, refund_count=0),
        "RefundFailed",
        AT,
        refund={
            **refund,
            "status": "failed",
            "stripe_refund_id": "re_sample01",
            "failure_reason": "expired_or_canceled_card",
            "previous_status": "succeeded",
        },
    )

    disputed = apply(payment("dispute_lost"), intent("dispute_lost", "payment_intent.succeeded"), fee).payment
    for event in events:
        if event["type"].startswith("charge.dispute.") and event["data"]["object"]["status"] != "won":
            news = DisputeObject.model_validate(event["data"]["object"]).snapshot()
            change = apply_dispute(disputed, news, AT)
            if change is not None:
                disputed = change.payment
                _keep_dispute_event(found, change, news)

    found.update(
        _service_events()
        | _radar_events(
            events,
            *(
                apply(payment(f), intent(f, "payment_intent.succeeded"), fee)
                for f in ("elevated", "fraud_warning")
            ),
        )
        | _risk_decision_events(
            payment("captured", "manual"),
            intent("captured", "payment_intent.amount_capturable_updated"),
            apply,
        )
    )
    return {event_type: _bus_envelope(event) for event_type, event in found.items()}


def _risk_decision_events(start: Any, capturable: dict[str, Any], apply: Any) -> dict[str, Any]:
    """A payment our checks blocked before Stripe, and one they held for review: its hold opened by
    Stripe's authorization, then approved, rejected or expired."""
    from payments.domain.risk import Decision, PaymentRisk, RiskDecision, RiskReason

    def decided(decision: Decision, reason: RiskReason) -> PaymentRisk:
        return PaymentRisk(decision=RiskDecision(decision, (reason,), AT))

    too_many = RiskReason(
        "velocity",
        "too_many_attempts_per_customer",
        "attempt 21 in 3600 s for this customer, at most 20",
        "block",
    )
    blocked = dataclasses.replace(
        start, id="pay_sampleblocked0000000000", order_id="order-blocked", risk=decided("block", too_many)
    ).block("Too many payment attempts; try again later", AT)
    above = RiskReason(
        "review_rules", "review_above_amount", "2599 usd is above the review amount 2000", "review"
    )
    held = apply(dataclasses.replace(start, risk=decided("review", above)), capturable)
    found = {"PaymentBlocked": blocked.event, "PaymentHeldForReview": held.event}
    for outcome, by in (("approved", ADMIN), ("rejected", ADMIN), ("expired", "expiry")):
        closed = held.payment.close_hold(outcome, by, AT)
        found[closed.event.event_type] = closed.event
    return found


def _keep_dispute_event(found: dict[str, Any], change: Any, news: Any) -> None:
    """The first event of each type; the new dispute also gets the deadline watcher's notice, three days
    before its deadline."""
    from datetime import UTC, datetime

    from payments.application.clock import rfc3339
    from payments.domain.dispute import announce_deadline, record_dispute

    if change.event.event_type == "ChargebackReceived" and "ChargebackReceived" not in found:
        record = record_dispute(None, news, change.payment.id, AT)
        assert record is not None
        due_by = rfc3339(datetime.fromtimestamp(BASE_TIME + 72 * 3600, UTC))
        notice = announce_deadline(change.payment, record, 72, due_by, AT)
        assert notice is not None
        found["DisputeDeadlineApproaching"] = notice.event
    found.setdefault(change.event.event_type, change.event)


def _radar_events(events: list[dict[str, Any]], paid: Any, warned: Any) -> dict[str, Any]:
    """Radar's outcome learnt after the payment's status, Stripe's review opened and closed, and an
    early fraud warning (`paid`, `warned`: the payments' changes that recorded their success)."""
    from payments.adapters.stripe.gateway import intent_snapshot, radar_outcome
    from payments.domain.fraud_signals import StripeReview, record_stripe_review

    def elevated(event_type: str) -> dict[str, Any]:
        """The elevated flow's object of `event_type` (reviews name its intent, the rest its payment)."""
        return next(
            e["data"]["object"]
            for e in events
            if e["type"] == event_type
            and (
                (e["data"]["object"].get("metadata") or {}).get("payment_id") == PAYMENTS["elevated"]
                or e["data"]["object"]["object"] == "review"
            )
        )

    charge, intent = elevated("charge.succeeded"), elevated("payment_intent.succeeded")
    recorded = paid.payment.record_radar(
        dataclasses.replace(intent_snapshot(intent), radar=radar_outcome(charge)), AT
    )
    assert recorded is not None
    found: dict[str, Any] = {"RadarOutcomeRecorded": recorded.event}
    current = recorded.payment
    for event_type, name in (
        ("review.opened", "PaymentReviewOpened"),
        ("review.closed", "PaymentReviewClosed"),
    ):
        review = elevated(event_type)
        news = StripeReview(
            review["id"],
            review["open"],
            review["reason"],
            review["created"],
            payment_intent_id=review["payment_intent"],
            payment_id=PAYMENTS["elevated"],
        )
        change = record_stripe_review(current, news, AT)
        assert change is not None
        assert change.event.event_type == name
        found[name], current = change.event, change.payment
    found["FraudWarningReceived"] = _fraud_warning_event(events, warned.payment)
    return found


def _fraud_warning_event(events: list[dict[str, Any]], paid: Any) -> Any:
    from payments.domain.fraud_signals import StripeFraudWarning, record_fraud_warning

    warning = next(e["data"]["object"] for e in events if e["type"] == "radar.early_fraud_warning.created")
    news = StripeFraudWarning(
        warning["id"],
        warning["fraud_type"],
        warning["actionable"],
        charge_id=warning["charge"],
        payment_intent_id=warning["payment_intent"],
        payment_id=PAYMENTS["fraud_warning"],
    )
    change = record_fraud_warning(paid, news, AT)
    assert change is not None
    return change.event


def _service_events() -> dict[str, Any]:
    """The events that follow no payment: payment methods, payouts, reconciliation runs, risk rules and
    the blocklist."""
    return {
        **_payment_method_events(),
        **_payout_events(),
        "ReconciliationCompleted": _reconciliation_event(),
        **_risk_events(),
    }


def _risk_events() -> dict[str, Any]:
    """An admin's first change of the rules, and a card BIN blocked, then unblocked."""
    from payments.application.ports import StoredRules
    from payments.application.risk_admin import entry_event, rules_event
    from payments.domain.risk_rules import AuditRecord, BlocklistEntry, RiskRules

    rules = RiskRules.model_validate({**BODIES["risk_put_rules"], "version": 1})
    entry = BlocklistEntry.model_validate(
        {
            "entry_id": EXAMPLE_IDS["entry_id"],
            **BODIES["risk_add_blocklist_entry"],
            "author": ADMIN,
            "created_at": AT,
        }
    )
    audit = AuditRecord(
        change_id="chg_example", action="blocklist_entry_added", subject=entry.entry_id, author=ADMIN, at=AT
    )
    removal = audit.model_copy(update={"action": "blocklist_entry_removed"})
    return {
        "RiskRulesChanged": rules_event(StoredRules(rules, "chg_example", AT, ADMIN)),
        "BlocklistEntryAdded": entry_event(entry, audit),
        "BlocklistEntryRemoved": entry_event(entry, removal),
    }


def _payout_events() -> dict[str, Any]:
    """A payout created, paid, then failed after it was paid; another canceled before it left."""
    from payments.domain.payout import StripePayout, apply_payout

    def news(status: str, payout_id: str = "po_sample01") -> StripePayout:
        return StripePayout(payout_id, AMOUNT, "usd", status, automatic=True, arrival_date=1795737600)

    events: dict[str, Any] = {}
    payout = None
    for status in ("pending", "paid", "failed"):
        payout = apply_payout(payout, news(status), AT)
        assert payout is not None
        events[payout.event().event_type] = payout.event()
    canceled = apply_payout(apply_payout(None, news("pending", "po_sample02"), AT), news("canceled"), AT)
    assert canceled is not None
    events["PayoutCanceled"] = canceled.event()
    return events


def _reconciliation_event() -> Any:
    from payments.domain.events import DomainEvent, ReconciliationData

    data = ReconciliationData(
        run_id="rec_2026-11-26_2026-11-26",
        period_from="2026-11-26",
        period_to="2026-11-26",
        status="completed",
        matched=12,
        unexplained=0,
        differences={"timing": 1},
    )
    return DomainEvent(
        event_id=f"{data.run_id}:v1",
        event_type="ReconciliationCompleted",
        version=1,
        occurred_at=AT,
        data=data.model_dump(mode="json"),
    )


def _payment_method_events() -> dict[str, Any]:
    from payments.domain.events import DomainEvent, PaymentMethodData

    events: dict[str, Any] = {}
    method = PaymentMethodData(
        payment_method_id="pm_sample01",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2030,
        funding="credit",
    ).model_dump(mode="json")
    for version, event_type in enumerate(("PaymentMethodSaved", "PaymentMethodDeleted"), start=1):
        events[event_type] = DomainEvent(
            event_id=f"pm_sample01:v{version}",
            event_type=event_type,
            version=version,
            occurred_at=AT,
            customer_id=CUSTOMER,
            data=method,
        )
    return events


def _bus_envelope(event: Any) -> dict[str, Any]:
    detail = event.model_dump(mode="json")
    return {
        "version": "0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sample:{detail['event_id']}")),
        "detail-type": detail["event_type"],
        "source": catalog.DOMAIN_EVENT_SOURCE,
        "account": "123456789012",
        "time": AT.replace(".000", ""),
        "region": "us-east-1",
        "resources": [f"payment:{detail['payment_id']}"] if detail["payment_id"] else [],
        "detail": detail,
    }


# --------------------------------------------------------------------------- API Gateway events


def _rules_body() -> dict[str, Any]:
    from payments.domain.risk_rules import ReviewRules, RiskRules

    return RiskRules(review=ReviewRules(review_countries=["NG"])).model_dump(mode="json")


EXAMPLE_IDS = {
    "payment_id": "pay_example0000000000000000",
    "payment_method_id": "pm_example",
    "run_id": f"rec_{AT[:10]}_{AT[:10]}",
    "dispute_id": "dp_example",
    "entry_id": "blk_example",
}
BODIES: dict[str, Any] = {
    # A service's call, stating the order's terms (a customer's carries an order token, which expires).
    "process_payment": {
        "order_id": "order-1001",
        "amount": AMOUNT,
        "currency": "usd",
        "customer_id": CUSTOMER,
        "payment_method_id": "pm_card_visa",
        "description": "Order 1001",
        "metadata": {"channel": "web"},
    },
    "capture_payment": {"amount": CAPTURED},
    "refund_payment": {"amount": 500, "reason": "requested_by_customer"},
    "save_payment_method": {"payment_method_id": "pm_card_visa"},
    "submit_dispute_evidence": {
        "evidence": {
            "customer_name": "Jenny Rosen",
            "uncategorized_text": "Delivered on 2026-11-20, signed for by the cardholder.",
        },
        "submit": False,
    },
    "accept_dispute": {"confirm": "accept_loss"},
    # The samples' day (AT's): in the past for any run, so the run is made (an empty one).
    "start_reconciliation_run": {"from": AT[:10], "to": AT[:10]},
    "risk_add_blocklist_entry": {
        "kind": "card_bin",
        "value": "424242",
        "reason": "card testing from this BIN",
    },
    # The defaults as GET answers them on a fresh stack (version 0), PUT back with one change.
    "risk_put_rules": _rules_body(),
}
# Query strings of the routes that need one (the samples' day: AT's, in the past for any run).
QUERIES: dict[str, str] = {
    "ledger_balances": f"currency=usd&from={AT[:10]}&to={AT[:10]}",
    "ledger_entries": f"currency=usd&from={AT[:10]}&to={AT[:10]}&limit=20",
    "list_disputes": "status=needs_response&limit=20",
}


SERVICE_CALLS = frozenset({"process_payment"})  # the samples a service sends


def _caller(name: str, admin: bool) -> dict[str, str]:
    if name in SERVICE_CALLS:
        return cognito_claims(SERVICE, service=True)
    return cognito_claims(ADMIN if admin else CUSTOMER, admin=admin)


def api_samples() -> dict[str, dict[str, Any]]:
    """One event per catalog route; Stripe's webhook has its samples in events/stripe."""
    return {fn.name: api_event(fn) for fn in catalog.api_functions() if fn.name != "stripe_webhook"}


def api_event(fn: catalog.Function) -> dict[str, Any]:
    """The REST proxy event of a request to `fn`'s route, by a customer (an admin on admin-only routes, a
    service where the sample's body says so)."""
    assert fn.route is not None
    path = fn.route.path.format(**EXAMPLE_IDS)
    params = {k: v for k, v in EXAMPLE_IDS.items() if "{" + k + "}" in fn.route.path}
    headers = {"Content-Type": "application/json", "User-Agent": "sample"}
    if fn.route.method in ("POST", "PUT", "DELETE"):
        headers["Idempotency-Key"] = f"sample-{fn.name}"
    body = BODIES.get(fn.name)
    admin = fn.route.admin_only
    event = build_rest_event(
        fn.route.method,
        fn.route.path,
        path,
        headers=headers,
        query=QUERIES.get(fn.name, ""),
        body=json.dumps(body) if body is not None else None,
        claims=_caller(fn.name, admin) if fn.route.authorizer else None,
        path_parameters=params,
    )
    event["requestContext"].update(
        requestId=f"sample-{fn.name}", requestTime=REQUEST_TIME, requestTimeEpoch=BASE_TIME * 1000
    )
    return event


# --------------------------------------------------------------------------- files


def write(folder: str, documents: dict[str, dict[str, Any]]) -> None:
    target = EVENTS / folder
    target.mkdir(parents=True, exist_ok=True)
    for name, document in sorted(documents.items()):
        (target / f"{name}.json").write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {len(documents)} files in events/{folder}")


def main(argv: list[str]) -> None:
    write("schemas", schemas())
    if argv[1:] == ["schemas"]:
        return
    events = capture_stripe_events()
    write("stripe", stripe_samples(events))
    write("bus", bus_samples(events))
    write("api", api_samples())


if __name__ == "__main__":
    main(sys.argv)
