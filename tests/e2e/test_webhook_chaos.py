"""`make dev` with Stripe's webhooks reordered, duplicated and delayed (STRIPE_WEBHOOK_CHAOS): the main
flows over HTTP end in the states and the ledger that in-order delivery gives
(tests/integration/test_webhook_chaos.py holds the in-order run to the same numbers)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import stripe

from infra.local.launcher import LaunchedStack
from infra.local.ledger import read_items, trial_balance
from infra.local.settings import EMULATOR_API_KEY
from tests.e2e.frontend import Frontend, start_stack
from tests.integration.test_webhook_chaos import EXPECTED_LEDGER, EXPECTED_STATES

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def chaotic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Frontend]:
    folder: Path = tmp_path_factory.mktemp("chaos")
    launched: LaunchedStack = start_stack(
        folder, STRIPE_WEBHOOK_CHAOS="seed=20261201,duplicates=0.5,max_delay_ms=150"
    )
    yield Frontend(launched)
    assert launched.stop() == [], "make dev left processes running"


def intent_id(frontend: Frontend, payment_id: str) -> str:
    assert frontend.state.stripe_url
    client = stripe.StripeClient(
        EMULATOR_API_KEY, base_addresses={"api": frontend.state.stripe_url}, max_network_retries=0
    )
    found = client.v1.payment_intents.search(params={"query": f"metadata['payment_id']:'{payment_id}'"})
    (intent,) = found.data
    return str(intent.id)


def settled(frontend: Frontend, payments: dict[str, str], timeout_s: float = 60.0) -> dict[str, Any]:
    """Each flow's (status, refunded, dispute) once they match what in-order delivery gives."""
    deadline = time.monotonic() + timeout_s
    states: dict[str, Any] = {}
    while time.monotonic() < deadline:
        states = {}
        for flow, payment_id in payments.items():
            current = frontend.admin.get(f"/payments/{payment_id}").json
            dispute = current["dispute"]["status"] if current.get("dispute") else None
            states[flow] = (current["status"], current["amount_refunded"], dispute)
        if states == EXPECTED_STATES:
            return states
        time.sleep(0.5)
    return states


def ledger(frontend: Frontend, expected: dict[str, int], timeout_s: float = 30.0) -> dict[str, int]:
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=frontend.state.dynamodb_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    deadline = time.monotonic() + timeout_s
    balances: dict[str, int] = {}
    while time.monotonic() < deadline:
        balances = {k: v for k, v in trial_balance(read_items(dynamodb)).balances.get("usd", {}).items() if v}
        if balances == expected:
            return balances
        time.sleep(0.5)
    return balances


def test_the_main_flows_end_as_in_order_delivery_does(chaotic: Frontend) -> None:
    admin = chaotic.admin
    payments: dict[str, str] = {}

    def pay(flow: str, **extra: Any) -> dict[str, Any]:
        created = chaotic.pay(amount=10_000, **extra)
        assert created.status == 201, created.body
        payments[flow] = created.json["id"]
        return dict(created.json)

    paid = pay("paid")
    for flow, outcome in (("three_d_secure", "succeed"), ("three_d_secure_failed", "fail")):
        started = pay(flow, card="pm_card_authenticationRequired", return_url="https://shop.example/done")
        intent = intent_id(chaotic, started["id"])
        assert chaotic.emulator(f"payment_intents/{intent}/authenticate", {"outcome": outcome}).status == 200
    held = pay("captured", capture="manual")
    assert admin.post(f"/payments/{held['id']}/capture", {}).status == 200
    disputed = pay("dispute_lost")
    chaotic.wait_for_payment(paid["id"], lambda p: p["status"] == "succeeded")
    assert admin.post(f"/payments/{paid['id']}/refunds", {"amount": 2_500}).status == 201
    opened = chaotic.emulator("disputes", {"payment_intent": intent_id(chaotic, disputed["id"])})
    assert opened.status == 200, opened.body
    assert chaotic.emulator(f"disputes/{opened.json['id']}/close", {"outcome": "lost"}).status == 200

    assert settled(chaotic, payments) == EXPECTED_STATES
    balances = ledger(chaotic, EXPECTED_LEDGER)
    assert balances == EXPECTED_LEDGER
    assert sum(balances.values()) == 0
    chaotic.wait_for_output("stack", "Stripe webhooks reordered, duplicated, delayed")
