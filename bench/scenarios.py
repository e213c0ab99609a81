"""What each operation's warm calls look like: the common, successful path, with its setup untimed.

A scenario is a generator of events: the code between two `yield`s (creating the payment to capture,
the saved card to delete...) runs before the timer starts on the next call. Events are built the way
API Gateway, Stripe and EventBridge build them; request bodies come from events/api samples.
"""

from __future__ import annotations

import importlib
import json
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
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
    ) -> dict[str, Any]:
        """An API Gateway REST event for the function's route, the sample's body updated with `body`."""
        from infra.local.apigw import build_rest_event, cognito_claims

        fn = catalog.function(name)
        assert fn.route is not None
        sample = common.api_sample(name) or {}
        payload: dict[str, Any] | None = json.loads(sample["body"]) if sample.get("body") else None
        if body is not None:
            payload = {**(payload or {}), **body}
        concrete = fn.route.path
        for key, value in (path or {}).items():
            concrete = concrete.replace("{" + key + "}", value)
        headers = {"Content-Type": "application/json", "User-Agent": "bench"}
        if fn.route.method in ("POST", "DELETE"):
            headers["Idempotency-Key"] = str(uuid.uuid4())
        claims = cognito_claims(ADMIN, admin=True) if fn.route.admin_only else cognito_claims(self.customer)
        return build_rest_event(
            fn.route.method,
            fn.route.path,
            concrete,
            headers=headers,
            body=None if payload is None else json.dumps(payload),
            claims=claims,
            path_parameters=path,
        )

    def call(self, name: str, **kwargs: Any) -> Any:
        """Invoke as setup: the answer must be a success."""
        status, body = self.invoke(name, self.api(name, **kwargs))
        if not status.startswith("2"):
            raise SetupFailed(f"{name} answered {status}: {json.dumps(body)[:300]}")
        return body

    # ------------------------------------------------------------------ setup helpers

    def pay(self, capture: str = "automatic") -> dict[str, Any]:
        payment: dict[str, Any] = self.call(
            "process_payment", body={"order_id": common.order_id(), "capture": capture}
        )
        return payment

    def save_card(self, payment_method_id: str = "pm_card_visa") -> str:
        """The saved method's id."""
        return str(self.call("save_payment_method", body={"payment_method_id": payment_method_id})["id"])

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

    def stripe_event_ids(self) -> dict[str, str]:
        """The newest 100 Stripe events, id -> type (the emulator lists newest first, as Stripe does)."""
        listing = self.stripe("GET", "/v1/events?limit=100")
        return {str(e["id"]): str(e["type"]) for e in listing.get("data", [])}

    def domain_event(self, detail_type: str, payment_id: str) -> dict[str, Any]:
        for entry in reversed(self.published):
            if entry.get("DetailType") != detail_type:
                continue
            detail = json.loads(entry["Detail"])
            if detail.get("payment_id") == payment_id:
                return common.bus_envelope(entry["Source"], detail_type, detail)
        raise SetupFailed(f"{detail_type} for {payment_id} was not published")


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


def _stripe_bus_event(world: World, event_type: str, payment_id: str) -> dict[str, Any]:
    stripe_event = world.stripe_event(event_type, payment_id)
    return common.bus_envelope(catalog.STRIPE_EVENT_SOURCE, stripe_event["type"], stripe_event)


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


def accounting(world: World) -> Iterator[dict[str, Any]]:
    while True:
        payment = world.pay()
        yield world.domain_event("PaymentProcessed", payment["id"])


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
    "stripe_webhook": stripe_webhook,
    "payment_status": payment_status,
    "refunds": refunds,
    "disputes": disputes,
    "accounting": accounting,
    "outbox_relay": _timer("outbox_relay"),
    "janitor": _timer("janitor"),
}
