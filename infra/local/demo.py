"""`make demo`: the main flows over HTTP, each step printed, against `make dev` (or a stack it starts).

A card payment and its PaymentProcessed; a decline; 3-D Secure completed; manual capture; a partial then
a full refund; a dispute opened and lost; a saved card reused; the payment's history; the ledger's
trial balance; and today's reconciliation of the ledger with Stripe. A step whose route or function is
not written yet says so and is skipped; any other surprise fails the step. Exit 1 if a step failed.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.local.client import ApiClient, HttpResult, request
from infra.local.launcher import against_local_stack
from infra.local.runtime import code_exists
from infra.local.settings import StackState
from infra.local.tokens import DEFAULT_SUBS, issue_order_token, issue_token

WAIT_S = 15.0
RETURN_URL = "https://shop.example/checkout/complete"
# The functions that carry a Stripe-side change back to the payment.
WEBHOOK_STATUS = ("stripe_webhook", "payment_status")
WEBHOOK_REFUNDS = ("stripe_webhook", "refunds")
WEBHOOK_DISPUTES = ("stripe_webhook", "disputes")
ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}


class Skipped(Exception):
    """The step needs something not written yet (or not available in this mode)."""


class Failed(Exception):
    pass


def _shown(body: Any) -> Any:
    """The body as printed: an order token is a few hundred characters, its start says enough."""
    if isinstance(body, dict) and isinstance(body.get("order_token"), str):
        return {**body, "order_token": body["order_token"][:24] + "..."}
    return body


def money(amount: int, currency: str) -> str:
    if currency in ZERO_DECIMAL:
        return f"{amount} {currency.upper()}"
    return f"{amount / 100:.2f} {currency.upper()}"


def short(payment: dict[str, Any]) -> str:
    parts = [
        payment.get("id", "?"),
        payment.get("status", "?"),
        money(payment["amount"], payment["currency"]),
    ]
    if payment.get("amount_refunded"):
        parts.append(f"refunded {money(payment['amount_refunded'], payment['currency'])}")
    if payment.get("dispute"):
        parts.append(f"dispute {payment['dispute']['status']}")
    return "  ".join(str(p) for p in parts)


@dataclass
class Demo:
    state: StackState
    run: str = field(default_factory=lambda: secrets.token_hex(3))
    orders: int = 0
    refunded_payment: str | None = None
    first_payment: str | None = None

    def __post_init__(self) -> None:
        secret = self.state.jwt_secret
        self.alice = ApiClient(self.state.api_url, issue_token(secret, DEFAULT_SUBS["customer"]))
        self.bob = ApiClient(self.state.api_url, issue_token(secret, "bob"))
        self.admin = ApiClient(self.state.api_url, issue_token(secret, DEFAULT_SUBS["admin"], admin=True))
        self.service = ApiClient(
            self.state.api_url, issue_token(secret, DEFAULT_SUBS["service"], service=True)
        )

    # ------------------------------------------------------------------ printing and checking

    @staticmethod
    def say(text: str) -> None:
        print(f"    {text}", flush=True)

    def call(self, who: str, client: ApiClient, method: str, path: str, body: Any = None) -> HttpResult:
        shown = f"  {json.dumps(_shown(body), separators=(',', ':'))}" if body is not None else ""
        print(f"  -> {who:<10} {method} /v1{path}{shown}", flush=True)
        result = client.call(method, path, body)
        data = result.json if result.body.startswith(b"{") else None
        summary = ""
        if isinstance(data, dict):
            summary = (
                short(data)
                if "status" in data and "amount" in data
                else str(data.get("code") or data.get("id") or "")
            )
        print(f"  <- {result.status} {summary}", flush=True)
        return result

    @staticmethod
    def expect(result: HttpResult, *statuses: int) -> Any:
        if result.status == 501 and result.code == "not_implemented":
            raise Skipped(result.json.get("detail", "not implemented yet"))
        if result.status not in statuses:
            raise Failed(
                f"expected HTTP {' or '.join(map(str, statuses))}, got {result.status}: {result.body[:300]!r}"
            )
        return result.json

    @staticmethod
    def check(condition: bool, what: str) -> None:
        if not condition:
            raise Failed(what)
        print(f"  ok  {what}", flush=True)

    @staticmethod
    def needs(*functions: str) -> None:
        missing = [name for name in functions if not code_exists(name)]
        if missing:
            raise Skipped(f"needs {', '.join(f'functions/{m}/app.py' for m in missing)} (not written yet)")

    def needs_emulator(self) -> None:
        if not self.state.uses_emulator:
            raise Skipped("needs the Stripe emulator (this stack uses Stripe test mode)")

    def wait_for(
        self, payment_id: str, done: Callable[[dict[str, Any]], bool], what: str, via: tuple[str, ...]
    ) -> dict[str, Any]:
        """Poll the payment until `done`; `via` names the functions that carry the change (webhook path)."""
        deadline = time.monotonic() + WAIT_S
        payment: dict[str, Any] = {}
        while time.monotonic() < deadline:
            payment = self.alice.get(f"/payments/{payment_id}").json or {}
            if done(payment):
                self.say(f"now: {short(payment)}")
                return payment
            time.sleep(0.3)
        self.needs(*via)  # a missing function explains it: skip rather than fail
        last = short(payment) if payment else "nothing"
        raise Failed(
            f"{what} did not show within {WAIT_S:.0f} s (last: {last}); see make dev's dispatch lines"
        )

    def order(self, amount: int, customer: str = DEFAULT_SUBS["customer"]) -> tuple[str, str]:
        """A new order of `customer` and the token the Order Service gives its frontend for it."""
        self.orders += 1
        order_id = f"demo-{self.run}-{self.orders}"
        return order_id, issue_order_token(order_id, amount, "usd", customer)

    def pay(self, card: str, amount: int, **extra: Any) -> HttpResult:
        _, token = self.order(amount)
        body = {"order_token": token, "payment_method_id": card, **extra}
        return self.call("alice", self.alice, "POST", "/payments", body)

    # ------------------------------------------------------------------ the flows

    def card_payment(self) -> None:
        payment = self.expect(self.pay("pm_card_visa", 2599, description="Demo order"), 201)
        self.first_payment = payment["id"]
        self.check(payment["status"] == "succeeded", "the payment succeeded")
        history = self.expect(self.call("alice", self.alice, "GET", f"/payments/{payment['id']}/events"), 200)
        types = [event["event_type"] for event in history["data"]]
        self.say(f"events: {', '.join(types)}")
        self.check("PaymentProcessed" in types, "PaymentProcessed was recorded (and published on the bus)")

    def decline(self) -> None:
        problem = self.expect(self.pay("pm_card_chargeDeclined", 1500), 402)
        self.check(
            problem.get("code") == "card_declined", f"402 card_declined ({problem.get('decline_code')})"
        )
        payment = self.expect(
            self.call("alice", self.alice, "GET", f"/payments/{problem['payment_id']}"), 200
        )
        self.check(payment["status"] == "failed", "the attempt is kept, as failed")

    def three_d_secure(self) -> None:
        self.needs_emulator()
        payment = self.expect(self.pay("pm_card_authenticationRequired", 4200, return_url=RETURN_URL), 201)
        self.check(payment["status"] == "requires_action", "the bank asks for 3-D Secure")
        action = payment.get("next_action") or {}
        page = (action.get("redirect_to_url") or {}).get("url") or (action.get("use_stripe_sdk") or {}).get(
            "stripe_js"
        )
        if not page:
            raise Failed(f"no 3-D Secure page in next_action: {action}")
        answer = request("GET", f"{page}?outcome=succeed")
        back = answer.header("location") or "-"
        self.say(f"the customer completes the challenge ({answer.status}, redirected to {back})")
        done = self.wait_for(
            payment["id"],
            lambda p: p.get("status") == "succeeded",
            "payment_intent.succeeded",
            WEBHOOK_STATUS,
        )
        self.check(done["status"] == "succeeded", "succeeded once Stripe's webhook arrived")

    def order_terms(self) -> None:
        order_id, token = self.order(3300)
        visa = {"order_token": token, "payment_method_id": "pm_card_visa"}
        changed = self.expect(self.call("alice", self.alice, "POST", "/payments", {**visa, "amount": 1}), 422)
        self.check(changed["code"] == "order_token_mismatch", "the body cannot change the order's amount")
        borrowed = self.expect(self.call("bob", self.bob, "POST", "/payments", visa), 422)
        self.check(borrowed["code"] == "order_token_customer_mismatch", "nor can Bob pay Alice's order")
        paid = self.expect(self.call("alice", self.alice, "POST", "/payments", visa), 201)
        self.check((paid["order_id"], paid["amount"]) == (order_id, 3300), "Alice pays the order's 33.00 USD")
        other_id, _ = self.order(1200)
        for_bob = {"order_id": other_id, "amount": 1200, "currency": "usd", "customer_id": "bob",
                   "payment_method_id": "pm_card_visa"}  # fmt: skip
        charged = self.expect(self.call("service", self.service, "POST", "/payments", for_bob), 201)
        self.check(charged["customer_id"] == "bob", "a service (payments/service scope) states them for Bob")

    def manual_capture(self) -> None:
        payment = self.expect(self.pay("pm_card_visa", 7500, capture="manual"), 201)
        self.check(payment["status"] == "requires_capture", "authorized, funds held")
        captured = self.expect(
            self.call("admin", self.admin, "POST", f"/payments/{payment['id']}/capture", {}), 200
        )
        self.check(
            captured["status"] == "succeeded" and captured["amount_captured"] == 7500, "captured in full"
        )

    def refunds(self) -> None:
        payment = self.expect(self.pay("pm_card_visa", 5000), 201)
        self.refunded_payment = payment["id"]
        path = f"/payments/{payment['id']}/refunds"
        partial = {"amount": 1500, "reason": "requested_by_customer"}
        self.expect(self.call("admin", self.admin, "POST", path, partial), 200, 201, 202)
        self.wait_for(
            payment["id"], lambda p: p.get("amount_refunded") == 1500, "the partial refund", WEBHOOK_REFUNDS
        )
        self.expect(self.call("admin", self.admin, "POST", path, {"amount": 3500}), 200, 201, 202)
        done = self.wait_for(
            payment["id"], lambda p: p.get("status") == "refunded", "the full refund", WEBHOOK_REFUNDS
        )
        self.check(done["amount_refunded"] == 5000, "partially_refunded, then refunded in full")

    def dispute(self) -> None:
        self.needs_emulator()
        payment = self.expect(self.pay("pm_card_createDispute", 3000), 201)
        opened = self.wait_for(
            payment["id"], lambda p: bool(p.get("dispute")), "charge.dispute.created", WEBHOOK_DISPUTES
        )
        dispute_id = opened["dispute"]["id"]
        self.say(f"the cardholder disputes it: {dispute_id} ({opened['dispute']['reason']})")
        closed = request(
            "POST",
            f"{self.state.stripe_url}/_emulator/disputes/{dispute_id}/close",
            body=b'{"outcome":"lost"}',
        )
        self.say(f"the bank rules for the cardholder (emulator: {closed.status})")
        lost = self.wait_for(
            payment["id"],
            lambda p: (p.get("dispute") or {}).get("status") == "lost",
            "the lost dispute",
            WEBHOOK_DISPUTES,
        )
        self.check(lost["dispute"]["status"] == "lost", "dispute lost")

    def saved_card(self) -> None:
        saved = self.expect(
            self.call("alice", self.alice, "POST", "/payment-methods", {"payment_method_id": "pm_card_visa"}),
            200,
            201,
        )
        method_id = saved["id"]
        listed = self.expect(self.call("alice", self.alice, "GET", "/payment-methods"), 200)
        self.check(
            any(m.get("id") == method_id for m in listed.get("data", [])), f"{method_id} is in alice's cards"
        )
        foreign = self.call("bob", self.bob, "GET", f"/payment-methods/{method_id}")
        self.check(foreign.status == 404, "bob cannot see it (404)")
        payment = self.expect(self.pay(method_id, 1999), 201)
        self.check(payment["status"] == "succeeded", "paid again with the saved card")

    def history(self) -> None:
        payment_id = self.refunded_payment or self.first_payment
        if payment_id is None:
            raise Skipped("no payment was made")
        history = self.expect(self.call("alice", self.alice, "GET", f"/payments/{payment_id}/events"), 200)
        for event in history["data"]:
            self.say(f"v{event['version']:<3} {event['occurred_at']}  {event['event_type']}")
        self.check(bool(history["data"]), f"{len(history['data'])} events, oldest first")

    def trial_balance(self) -> None:
        self.needs("accounting", "ledger_balances")
        today = datetime.now(UTC).date()
        # From yesterday: a demo run over midnight (UTC) keeps its first entries.
        path = f"/ledger/balances?currency=usd&from={today - timedelta(days=1)}&to={today}"
        report = self.expect(self.call("admin", self.admin, "GET", path), 200)
        for _ in range(int(WAIT_S)):  # the accounting subscriber runs after the events: let it catch up
            time.sleep(1)
            latest = self.expect(self.admin.get(path), 200)
            if latest == report:
                break
            report = latest
        accounts = [a for a in report["accounts"] if a["balance"]]
        if not accounts:
            raise Failed("the ledger has no journal entries")
        for account in accounts:
            self.say(f"{account['account']:<32} {money(account['balance'], 'usd'):>14}")
        total = report["trial_balance"]
        self.check(
            total == 0, f"{len(accounts)} accounts with a balance; trial balance {money(total, 'usd')}"
        )


def reconciliation(demo: Demo) -> None:
    """Today's reconciliation (the last step: after the ledger caught up): the ledger against Stripe's
    balance transactions, object by object."""
    demo.needs("start_reconciliation_run", "accounting")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    run = demo.expect(
        demo.call("admin", demo.admin, "POST", "/reconciliation/runs", {"from": today, "to": today}), 201
    )
    demo.say(
        f"{run['id']}: {run['stripe_transactions']} Stripe balance transactions, {run['ledger_entries']} "
        f"journal entries, {run['matched']} matched"
    )
    for name, found in run["differences_by_class"].items():
        if found:
            demo.say(f"{name:<32} {found:>14}")
    clean = run["status"] == "completed" and run["unexplained"] == 0
    every = run["matched"] == run["stripe_transactions"]
    demo.check(clean and every, f"{run['status']}: {run['unexplained']} unexplained differences")
    if run["unexplained"]:
        demo.say(f"(see make reconcile, or GET /v1/reconciliation/runs/{run['id']})")


STEPS: list[tuple[str, Callable[[Demo], None]]] = [
    ("A card payment succeeds", Demo.card_payment),
    ("A card is declined", Demo.decline),
    ("Amounts from the order", Demo.order_terms),
    ("3-D Secure, completed", Demo.three_d_secure),
    ("Manual capture", Demo.manual_capture),
    ("A partial, then a full refund", Demo.refunds),
    ("A dispute, opened and lost", Demo.dispute),
    ("A saved card, reused", Demo.saved_card),
    ("The payment's history", Demo.history),
    ("The ledger's trial balance", Demo.trial_balance),
    ("Today's reconciliation with Stripe", reconciliation),
]


def run(state: StackState) -> int:
    demo = Demo(state)
    outcomes: list[tuple[str, str, str]] = []
    for number, (title, step) in enumerate(STEPS, start=1):
        print(f"\n== {number}. {title} " + "=" * max(0, 60 - len(title)), flush=True)
        try:
            step(demo)
            outcomes.append((title, "done", ""))
        except Skipped as skipped:
            print(f"  --  skipped: {skipped}", flush=True)
            outcomes.append((title, "skipped", str(skipped)))
        except Failed as failed:
            print(f"  !!  FAILED: {failed}", flush=True)
            outcomes.append((title, "FAILED", str(failed)))
    print("\n== Summary " + "=" * 60)
    for title, outcome, why in outcomes:
        print(f"  {outcome:<8} {title}{'  (' + why + ')' if why else ''}")
    return 1 if any(outcome == "FAILED" for _, outcome, _ in outcomes) else 0


def main() -> int:
    def walk(state: StackState) -> int:
        print(f"Payments demo against {state.api_url}", flush=True)
        return run(state)

    return against_local_stack("demo", walk)


if __name__ == "__main__":
    sys.exit(main())
