"""The checks before Stripe and the review holds through the real handlers: moto, the Stripe emulator,
the admin API for the rules and the blocklist, and a count of every request sent to Stripe."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import requests

from infra import catalog
from infra.local import resources
from infra.local.stripe_emulator import StripeEmulator
from payments.domain.risk_rules import RiskRules
from tests.support.api import ApiResponse, call

ADMIN = "admin-risk"
RISK_TABLE = resources.LOCAL_NAMES[catalog.RISK.name]
PAYMENTS_TABLE = resources.LOCAL_NAMES[catalog.PAYMENTS.name]


def admin(method: str, path: str, **kwargs: Any) -> ApiResponse:
    return call(method, path, sub=ADMIN, admin=True, **kwargs)


def use_rules(**changes: Any) -> RiskRules:
    """Store the default rules with `changes` (RiskRules fields) through PUT /v1/risk/rules."""
    current = admin("GET", "/risk/rules").body
    wanted = RiskRules.model_validate(
        {**RiskRules().model_dump(mode="json"), **changes, "version": current["version"]}
    )
    response = admin("PUT", "/risk/rules", body=wanted.model_dump(mode="json"))
    assert response.status == 200, response.body
    return RiskRules.model_validate(response.body)


def block(kind: str, value: str) -> str:
    response = admin("POST", "/risk/blocklist", body={"kind": kind, "value": value, "reason": "fraud ring"})
    assert response.status == 201, response.body
    return str(response.body["entry_id"])


def pay_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "order_id": f"order-{uuid.uuid4().hex[:12]}",
        "amount": 2500,
        "currency": "usd",
        "payment_method_id": "pm_card_visa",
    }
    body.update(overrides)
    return body


def pay(sub: str = "cus_alice", source_ip: str = "203.0.113.9", **overrides: Any) -> ApiResponse:
    key = overrides.pop("idempotency_key", True)
    return call(
        "POST", "/payments", sub=sub, body=pay_body(**overrides), source_ip=source_ip, idempotency_key=key
    )


def save_card(card: str = "pm_card_visa", sub: str = "cus_alice") -> dict[str, Any]:
    response = call("POST", "/payment-methods", sub=sub, body={"payment_method_id": card})
    assert response.status in (200, 201), response.body
    return dict(response.body)


def velocity_items(kind: str | None = None) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=RISK_TABLE)["Items"]
    prefix = "VELOCITY#" + (f"{kind}#" if kind else "")
    return [item for item in items if item["pk"]["S"].startswith(prefix)]


def attempts_counted(kind: str = "customer") -> int:
    """Every attempt the counters hold for subjects of `kind`."""
    return sum(
        int(value["N"])
        for item in velocity_items(kind)
        for name, value in item.items()
        if name[0] == "a" and name[1:].isdigit()
    )


def history(payment_id: str, *, as_admin: bool = True, sub: str = "cus_alice") -> list[dict[str, Any]]:
    response = (
        admin("GET", f"/payments/{payment_id}/events")
        if as_admin
        else call("GET", f"/payments/{payment_id}/events", sub=sub)
    )
    assert response.status == 200, response.body
    return list(response.body["data"])


class StripeRequests:
    """Every request the service sends to the emulator, as (method, path)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.seen: list[tuple[str, str]] = []

    def __len__(self) -> int:
        return len(self.seen)

    def paths(self) -> list[str]:
        return [f"{method} {path}" for method, path in self.seen]


@pytest.fixture(autouse=True)
def rules_read_on_every_payment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The functions cache the rules while warm; these tests change them between payments."""
    monkeypatch.setenv("RISK_RULES_CACHE_SECONDS", "0")


@pytest.fixture
def mid_hour_clock() -> Iterator[None]:
    """The clock in the middle of the current hour (ticking): a race of attempts never straddles the
    hour that splits the counters, whenever the test runs."""
    import time_machine

    middle = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
    with time_machine.travel(middle, tick=True):
        yield


@pytest.fixture
def stripe_requests(emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch) -> StripeRequests:
    counted = StripeRequests(emulator.url)
    original = requests.Session.send

    def send(session: Any, prepared: Any, **kwargs: Any) -> Any:
        url = str(prepared.url)
        if url.startswith(counted.base):
            counted.seen.append((str(prepared.method), url[len(counted.base) :].split("?", 1)[0]))
        return original(session, prepared, **kwargs)

    monkeypatch.setattr(requests.Session, "send", send)
    return counted
