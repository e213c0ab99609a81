"""What each operation's warm calls look like: the common, successful path, with its setup untimed.

A scenario is a generator of events: the code between two `yield`s (creating the payment to capture,
the saved card to delete...) runs before the timer starts on the next call. Events are built the way
API Gateway, Stripe and EventBridge build them; request bodies come from events/api samples.
"""

from __future__ import annotations

import base64
import importlib
import itertools
import json
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import common
from bench.common import ADMIN, CUSTOMER, STRIPE_KEY
from bench.probe import Context, status_of
from infra import catalog

Scenario = Callable[["World"], Iterator[dict[str, Any]]]


class SetupFailed(RuntimeError):
    """A scenario could not prepare its call (a function it depends on is missing or failed)."""


class World:
    """The in-process service: handlers, a Stripe emulator (over HTTP) and the events published so far."""

    def __init__(self, stripe_url: str, published: list[dict[str, Any]]) -> None:
        self.stripe_url = stripe_url
        self.published = published
        self.customer = CUSTOMER
        self._payments_let_through = False

    # ------------------------------------------------------------------ invoking

    def handler(self, name: str) -> Callable[[dict[str, Any], Any], Any]:
        module = importlib.import_module(f"functions.{name}.app")
        return module.handler  # type: ignore[no-any-return]

    def invoke(self, name: str, event: dict[str, Any]) -> tuple[str, Any]:
        fn = catalog.function(name)
        result = self.handler(name)(event, Context(name, fn.memory_mb))
        return status_of(result), body_of(result)

    def api(
        self,
        name: str,
        *,
        path: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        query: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """An API Gateway REST event for the function's route, the sample's body updated with `body`, the
        query string `query` (not the sample's: its days are fixed)."""
        from infra.local.apigw import build_rest_event, cognito_claims

        fn = catalog.function(name)
        assert fn.route is not None
        sample = common.api_sample(name) or {}
        payload: dict[str, Any] | None = json.loads(sample["body"]) if sample.get("body") else None
        if body is not None:
            payload = {**(payload or {}), **body}
        if name == "process_payment" and payload is not None:
            payload = self.customers_order(payload)
        concrete = fn.route.path
        for key, value in (path or {}).items():
            concrete = concrete.replace("{" + key + "}", value)
        headers = {"Content-Type": "application/json", "User-Agent": "bench"}
        if fn.route.method in ("POST", "PUT", "DELETE"):
            headers["Idempotency-Key"] = str(uuid.uuid4())
        claims = cognito_claims(ADMIN, admin=True) if fn.route.admin_only else cognito_claims(self.customer)
        return build_rest_event(
            fn.route.method,
            fn.route.path,
            concrete,
            headers=headers,
            query=urllib.parse.urlencode(query or {}),
            body=None if payload is None else json.dumps(payload),
            claims=claims,
            path_parameters=path,
        )

    def customers_order(self, body: dict[str, Any]) -> dict[str, Any]:
        """The sample's payment (a service's) as the customer sends it: with the token the Order Service
        gives its frontend for the order, and no customer_id."""
        from infra.local.tokens import issue_order_token

        mine = {name: value for name, value in body.items() if name != "customer_id"}
        mine["order_token"] = issue_order_token(
            mine["order_id"], mine["amount"], mine["currency"], self.customer
        )
        return mine

    def call(self, name: str, **kwargs: Any) -> Any:
        """Invoke as setup: the answer must be a success."""
        status, body = self.invoke(name, self.api(name, **kwargs))
        if not status.startswith("2"):
            raise SetupFailed(f"{name} answered {status}: {json.dumps(body)[:300]}")
        return body

    def deliver(self, name: str, event: dict[str, Any]) -> Any:
        """Hand an event to a function that is not an API (a subscriber...) as setup: it must not raise."""
        try:
            return self.invoke(name, event)[1]
        except Exception as error:
            about = event.get("detail-type") or json.dumps(event)[:100]
            raise SetupFailed(f"{name} failed on {about}: {type(error).__name__}: {error}") from error

    # ------------------------------------------------------------------ setup helpers

    def let_payments_through(self) -> None:
        """Risk rules the bench's many payments never stop (common.rules_letting_payments_through),
        stored once in an operation's fresh tables and read at once (the rules cache is dropped)."""
        if self._payments_let_through:
            return
        from payments import services

        self.call("risk_put_rules", body=common.rules_letting_payments_through())
        services.risk_policy.cache_clear()
        services.risk_checks.cache_clear()
        self._payments_let_through = True

    def pay(self, capture: str = "automatic", payment_method_id: str | None = None) -> dict[str, Any]:
        self.let_payments_through()
        body: dict[str, Any] = {"order_id": common.order_id(), "capture": capture}
        if payment_method_id is not None:  # a Stripe test card that behaves otherwise
            body["payment_method_id"] = payment_method_id
        payment: dict[str, Any] = self.call("process_payment", body=body)
        return payment

    def save_card(self, payment_method_id: str = "pm_card_visa") -> str:
        """The saved method's id."""
        return str(self.call("save_payment_method", body={"payment_method_id": payment_method_id})["id"])

    def book(self, payments: int) -> None:
        """`payments` payments made and booked in the ledger (accounting given each PaymentProcessed)."""
        for _ in range(payments):
            payment = self.pay()
            self.deliver("accounting", self.domain_event("PaymentProcessed", payment["id"]))

    def reconcile(self, day: str) -> str:
        """The reconcile function run on one day (as invoked directly, not on its schedule). The run's id."""
        return str(self.deliver("reconcile", {"from": day, "to": day})["id"])

    def payout(self) -> str:
        """Stripe's payout schedule, run now: one automatic payout of the available balance (what was
        paid since the last one), paid at once. Its id."""
        made = self.stripe("POST", "/_emulator/payouts/run", {})["payouts"]
        if len(made) != 1:
            raise SetupFailed(f"the Stripe emulator made {len(made)} payouts, not one")
        return str(made[0]["id"])

    def book_payout(self, payout_id: str) -> None:
        """Stripe's news of the payout applied (payouts) and booked (accounting): created, then paid."""
        for stripe_type, detail_type in (("payout.created", "PayoutCreated"), ("payout.paid", "PayoutPaid")):
            self.deliver("payouts", _bus_event(self.stripe_event_of(stripe_type, payout_id)))
            self.deliver("accounting", self.payout_event(detail_type, payout_id))

    def stripe(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Stripe's API (form-encoded) or the emulator's control API (JSON), for setup only."""
        headers = {"Authorization": f"Bearer {STRIPE_KEY}"}
        data = None
        if body is not None and path.startswith("/v1/"):
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(  # noqa: S310 - the loopback emulator
            f"{self.stripe_url}{path}", data=data, method=method, headers=headers
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read() or b"null")

    def stripe_event(self, event_type: str, payment_id: str) -> dict[str, Any]:
        """The newest Stripe event of `event_type` about our payment (metadata carries our id)."""
        listing = self.stripe("GET", f"/v1/events?limit=100&type={event_type}")
        for event in listing.get("data", []):
            obj = event.get("data", {}).get("object", {})
            if (obj.get("metadata") or {}).get("payment_id") == payment_id:
                return dict(event)
            if _charge_of_payment(obj, payment_id, self):
                return dict(event)
        raise SetupFailed(f"no {event_type} event from the Stripe emulator for {payment_id}")

    def stripe_event_of(self, event_type: str, object_id: str) -> dict[str, Any]:
        """The newest Stripe event of `event_type` about the object `object_id` (a payout...)."""
        listing = self.stripe("GET", f"/v1/events?limit=100&type={event_type}")
        for event in listing.get("data", []):
            if event.get("data", {}).get("object", {}).get("id") == object_id:
                return dict(event)
        raise SetupFailed(f"no {event_type} event from the Stripe emulator for {object_id}")

    def stripe_event_ids(self) -> dict[str, str]:
        """The newest 100 Stripe events, id -> type (the emulator lists newest first, as Stripe does)."""
        listing = self.stripe("GET", "/v1/events?limit=100")
        return {str(e["id"]): str(e["type"]) for e in listing.get("data", [])}

    def domain_event(self, detail_type: str, payment_id: str) -> dict[str, Any]:
        return self._published(detail_type, payment_id, lambda detail: detail.get("payment_id"))

    def payout_event(self, detail_type: str, payout_id: str) -> dict[str, Any]:
        return self._published(detail_type, payout_id, lambda detail: detail["data"].get("id"))

    def _published(
        self, detail_type: str, about: str, subject: Callable[[dict[str, Any]], Any]
    ) -> dict[str, Any]:
        """The newest event of `detail_type` published about `about` (`subject` reads it from a detail)."""
        for entry in reversed(self.published):
            if entry.get("DetailType") != detail_type:
                continue
            detail = json.loads(entry["Detail"])
            if subject(detail) == about:
                return common.bus_envelope(entry["Source"], detail_type, detail)
        raise SetupFailed(f"{detail_type} for {about} was not published")


def _charge_of_payment(obj: dict[str, Any], payment_id: str, world: World) -> bool:
    """Charges, refunds and disputes carry the PaymentIntent's id, not our metadata."""
    intent = obj.get("payment_intent")
    if not isinstance(intent, str):
        return False
    found = world.stripe("GET", f"/v1/payment_intents/{intent}")
    return bool((found.get("metadata") or {}).get("payment_id") == payment_id)


def body_of(result: Any) -> Any:
    if isinstance(result, dict) and isinstance(result.get("body"), str):
        try:
            return json.loads(result["body"])
        except ValueError:
            return result["body"]
    return result


# ---------------------------------------------------------------------- one scenario per function


def process_payment(world: World) -> Iterator[dict[str, Any]]:
    world.let_payments_through()
    while True:
        yield world.api("process_payment", body={"order_id": common.order_id()})


def get_payment(world: World) -> Iterator[dict[str, Any]]:
    payment = world.pay()
    while True:
        yield world.api("get_payment", path={"payment_id": payment["id"]})


def list_payments(world: World) -> Iterator[dict[str, Any]]:
    for _ in range(20):  # one full default page (limit 20)
        world.pay()
    while True:
        yield world.api("list_payments")


def get_payment_history(world: World) -> Iterator[dict[str, Any]]:
    payment = world.pay()
    while True:
        yield world.api("get_payment_history", path={"payment_id": payment["id"]})


def capture_payment(world: World) -> Iterator[dict[str, Any]]:
    while True:
        payment = world.pay(capture="manual")
        yield world.api("capture_payment", path={"payment_id": payment["id"]})


def cancel_payment(world: World) -> Iterator[dict[str, Any]]:
    while True:
        payment = world.pay(capture="manual")
        yield world.api("cancel_payment", path={"payment_id": payment["id"]})


def refund_payment(world: World) -> Iterator[dict[str, Any]]:
    while True:
        payment = world.pay()
        amount = max(1, payment["amount"] // 10)
        yield world.api("refund_payment", path={"payment_id": payment["id"]}, body={"amount": amount})


def save_payment_method(world: World) -> Iterator[dict[str, Any]]:
    # A returning customer (Stripe customer and one card saved already) saves another card.
    while True:
        world.customer = f"{CUSTOMER}_save_{uuid.uuid4().hex[:12]}"
        world.save_card("pm_card_mastercard")
        yield world.api("save_payment_method", body={"payment_method_id": "pm_card_visa"})


def list_payment_methods(world: World) -> Iterator[dict[str, Any]]:
    for card in ("pm_card_visa", "pm_card_mastercard", "pm_card_amex"):
        world.save_card(card)
    while True:
        yield world.api("list_payment_methods")


def get_payment_method(world: World) -> Iterator[dict[str, Any]]:
    method_id = world.save_card()
    while True:
        yield world.api("get_payment_method", path={"payment_method_id": method_id})


def delete_payment_method(world: World) -> Iterator[dict[str, Any]]:
    while True:
        method_id = world.save_card()
        yield world.api("delete_payment_method", path={"payment_method_id": method_id})


def stripe_webhook(world: World) -> Iterator[dict[str, Any]]:
    while True:
        payment = world.pay()
        event = world.stripe_event("payment_intent.succeeded", payment["id"])
        yield common.webhook_event(event)


def _bus_event(stripe_event: dict[str, Any]) -> dict[str, Any]:
    """A Stripe event as the webhook's PutEvents puts it on the bus."""
    return common.bus_envelope(catalog.STRIPE_EVENT_SOURCE, stripe_event["type"], stripe_event)


def _stripe_bus_event(world: World, event_type: str, payment_id: str) -> dict[str, Any]:
    return _bus_event(world.stripe_event(event_type, payment_id))


def payment_status(world: World) -> Iterator[dict[str, Any]]:
    # The common case: Stripe confirms what the API call already recorded.
    while True:
        payment = world.pay()
        yield _stripe_bus_event(world, "payment_intent.succeeded", payment["id"])


def refunds(world: World) -> Iterator[dict[str, Any]]:
    # The common case: Stripe reports a refund our API made (recorded already).
    while True:
        payment = world.pay()
        world.call(
            "refund_payment", path={"payment_id": payment["id"]}, body={"amount": payment["amount"] // 10}
        )
        # refund.created carries the refund (charge.refunded lists refunds only when expanded).
        yield _stripe_bus_event(world, "refund.created", payment["id"])


def disputes(world: World) -> Iterator[dict[str, Any]]:
    while True:
        payment = world.pay()
        intent = world.stripe_event("payment_intent.succeeded", payment["id"])["data"]["object"]["id"]
        world.stripe("POST", "/_emulator/disputes", {"payment_intent": intent, "reason": "fraudulent"})
        yield _stripe_bus_event(world, "charge.dispute.created", payment["id"])


def _disputed(world: World) -> str:
    """A paid payment disputed at Stripe, the dispute's news applied (its record made). Its id."""
    payment = world.pay()
    intent = world.stripe_event("payment_intent.succeeded", payment["id"])["data"]["object"]["id"]
    dispute = world.stripe("POST", "/_emulator/disputes", {"payment_intent": intent, "reason": "fraudulent"})
    world.deliver("disputes", _stripe_bus_event(world, "charge.dispute.created", payment["id"]))
    return str(dispute["id"])


def list_disputes(world: World) -> Iterator[dict[str, Any]]:
    for _ in range(20):  # one full default page (limit 20)
        _disputed(world)
    while True:
        yield world.api("list_disputes", query={"status": "needs_response"})


def get_dispute(world: World) -> Iterator[dict[str, Any]]:
    dispute_id = _disputed(world)
    while True:
        yield world.api("get_dispute", path={"dispute_id": dispute_id})


# A small PDF, as the evidence route carries files (base64).
_RECEIPT = base64.b64encode(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n").decode()


def submit_dispute_evidence(world: World) -> Iterator[dict[str, Any]]:
    # The common case: staging a document and a text for a dispute that waits for them.
    while True:
        dispute_id = _disputed(world)
        receipt = {"field": "receipt", "filename": "receipt.pdf", "content_type": "application/pdf"}
        yield world.api(
            "submit_dispute_evidence",
            path={"dispute_id": dispute_id},
            body={"files": [{**receipt, "content": _RECEIPT}]},
        )


def accept_dispute(world: World) -> Iterator[dict[str, Any]]:
    while True:
        yield world.api("accept_dispute", path={"dispute_id": _disputed(world)})


def fraud_signals(world: World) -> Iterator[dict[str, Any]]:
    # The common case: an issuer's early fraud warning on a paid payment, refunded before a dispute.
    while True:
        payment = world.pay(payment_method_id="pm_card_createIssuerFraudRecord")
        yield _stripe_bus_event(world, "radar.early_fraud_warning.created", payment["id"])


def payouts(world: World) -> Iterator[dict[str, Any]]:
    # The common case: news that moves a payout we know, here Stripe's daily payout reaching the bank.
    while True:
        world.pay()
        payout_id = world.payout()
        world.deliver("payouts", _bus_event(world.stripe_event_of("payout.created", payout_id)))
        yield _bus_event(world.stripe_event_of("payout.paid", payout_id))


def accounting(world: World) -> Iterator[dict[str, Any]]:
    while True:
        payment = world.pay()
        yield world.domain_event("PaymentProcessed", payment["id"])


def ledger_balances(world: World) -> Iterator[dict[str, Any]]:
    world.book(5)  # today's journal, a few entries over the shards
    while True:
        yield world.api("ledger_balances", query={"currency": "usd"})


def ledger_entries(world: World) -> Iterator[dict[str, Any]]:
    world.book(25)  # more than a default page (limit 20): the answer carries a cursor
    while True:
        yield world.api("ledger_entries", query={"currency": "usd"})


def reconcile(world: World) -> Iterator[dict[str, Any]]:
    # Stripe's daily payout arrived (payout.paid) and our books hold all of it: a clean run.
    while True:
        world.book(1)
        payout_id = world.payout()
        world.book_payout(payout_id)
        yield _bus_event(world.stripe_event_of("payout.paid", payout_id))


def _days_back(count: int | None) -> Iterator[str]:
    """Today, yesterday and so on (UTC), `count` days (None: without end)."""
    today = datetime.now(UTC).date()
    back = 0
    while count is None or back < count:
        yield (today - timedelta(days=back)).isoformat()
        back += 1


def start_reconciliation_run(world: World) -> Iterator[dict[str, Any]]:
    # The common case: a day not reconciled yet (each call another one, back from today), books clean.
    world.book(3)
    for day in _days_back(None):
        yield world.api("start_reconciliation_run", body={"from": day, "to": day})


def list_reconciliation_runs(world: World) -> Iterator[dict[str, Any]]:
    for day in _days_back(20):  # one full default page (limit 20)
        world.reconcile(day)
    while True:
        yield world.api("list_reconciliation_runs")


def _run_with_differences(world: World) -> str:
    """A completed run of today with differences to look at: payments Stripe has and our books lack."""
    world.book(2)
    for _ in range(3):
        world.pay()  # not booked: missing in the ledger
    return world.reconcile(datetime.now(UTC).date().isoformat())


def get_reconciliation_run(world: World) -> Iterator[dict[str, Any]]:
    run_id = _run_with_differences(world)
    while True:
        yield world.api("get_reconciliation_run", path={"run_id": run_id})


def get_reconciliation_differences(world: World) -> Iterator[dict[str, Any]]:
    run_id = _run_with_differences(world)
    while True:
        yield world.api("get_reconciliation_differences", path={"run_id": run_id})


def risk_get_rules(world: World) -> Iterator[dict[str, Any]]:
    world.call("risk_put_rules")  # stored rules, not the defaults
    while True:
        yield world.api("risk_get_rules")


def risk_put_rules(world: World) -> Iterator[dict[str, Any]]:
    # An admin changes the rules just read: each call replaces the version the one before stored.
    for version in itertools.count():
        yield world.api("risk_put_rules", body={"version": version})


def _blocked_bins(world: World, count: int | None) -> Iterator[str]:
    """Block `count` card BINs (None: as many as asked for), each its own; their entry ids."""
    for number in itertools.islice(itertools.count(), count):
        entry = world.call("risk_add_blocklist_entry", body={"value": f"{400000 + number}"})
        yield str(entry["entry_id"])


def risk_list_blocklist(world: World) -> Iterator[dict[str, Any]]:
    list(_blocked_bins(world, 20))  # one full default page (limit 20)
    while True:
        yield world.api("risk_list_blocklist", query={"kind": "card_bin"})


def risk_add_blocklist_entry(world: World) -> Iterator[dict[str, Any]]:
    for number in itertools.count():
        yield world.api("risk_add_blocklist_entry", body={"value": f"{500000 + number}"})


def risk_remove_blocklist_entry(world: World) -> Iterator[dict[str, Any]]:
    for entry_id in _blocked_bins(world, None):
        yield world.api("risk_remove_blocklist_entry", path={"entry_id": entry_id})


def risk_list_audit(world: World) -> Iterator[dict[str, Any]]:
    list(_blocked_bins(world, 20))
    while True:
        yield world.api("risk_list_audit")


def _timer(name: str) -> Scenario:
    """A timer in the steady state: every event was published right after its commit and every request
    settled what it started, so it finds nothing left to do."""

    def scenario(world: World) -> Iterator[dict[str, Any]]:
        world.pay()
        fn = catalog.function(name)
        while True:
            yield common.scheduled_event(fn)

    return scenario


SCENARIOS: dict[str, Scenario] = {
    "process_payment": process_payment,
    "list_payments": list_payments,
    "get_payment": get_payment,
    "capture_payment": capture_payment,
    "cancel_payment": cancel_payment,
    "refund_payment": refund_payment,
    "get_payment_history": get_payment_history,
    "save_payment_method": save_payment_method,
    "list_payment_methods": list_payment_methods,
    "get_payment_method": get_payment_method,
    "delete_payment_method": delete_payment_method,
    "ledger_balances": ledger_balances,
    "ledger_entries": ledger_entries,
    "stripe_webhook": stripe_webhook,
    "payment_status": payment_status,
    "refunds": refunds,
    "disputes": disputes,
    "fraud_signals": fraud_signals,
    "list_disputes": list_disputes,
    "get_dispute": get_dispute,
    "submit_dispute_evidence": submit_dispute_evidence,
    "accept_dispute": accept_dispute,
    "payouts": payouts,
    "accounting": accounting,
    "reconcile": reconcile,
    "start_reconciliation_run": start_reconciliation_run,
    "list_reconciliation_runs": list_reconciliation_runs,
    "get_reconciliation_run": get_reconciliation_run,
    "get_reconciliation_differences": get_reconciliation_differences,
    "risk_get_rules": risk_get_rules,
    "risk_put_rules": risk_put_rules,
    "risk_list_blocklist": risk_list_blocklist,
    "risk_add_blocklist_entry": risk_add_blocklist_entry,
    "risk_remove_blocklist_entry": risk_remove_blocklist_entry,
    "risk_list_audit": risk_list_audit,
    "outbox_relay": _timer("outbox_relay"),
    "janitor": _timer("janitor"),
    "dispute_deadlines": _timer("dispute_deadlines"),
}
