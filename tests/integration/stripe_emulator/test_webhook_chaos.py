"""Chaos mode: webhooks reordered, duplicated and delayed, reproducibly from a seed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator, WebhookChaos

from .conftest import Receiver, control, make_client, pay, raw_request, serve_receiver

SECRET = "whsec_chaos"
REPO_ROOT = Path(__file__).resolve().parents[3]
# A payment whose card is disputed at once: five events in one request.
FLOW = [
    "payment_intent.created",
    "charge.succeeded",
    "payment_intent.succeeded",
    "charge.dispute.created",
    "charge.dispute.funds_withdrawn",
]


def _run_flow(emulator: StripeEmulator) -> None:
    client = make_client(emulator)
    pay(client, "pm_card_createDispute")
    assert emulator.wait_for_webhooks(timeout=10)
    client.v1.customers.create()
    assert emulator.wait_for_webhooks(timeout=10)


def _received(receiver: Receiver) -> list[str]:
    return [event["type"] for event in receiver.events()]


def _chaotic_run(chaos: WebhookChaos) -> list[str]:
    with serve_receiver() as receiver:
        with StripeEmulator(webhook_endpoints=[(receiver.url, SECRET)], webhook_chaos=chaos) as emulator:
            _run_flow(emulator)
        return _received(receiver)


def test_the_same_seed_gives_the_same_shuffle_and_duplicates() -> None:
    chaos = WebhookChaos(seed=7, duplicates=0.5, max_delay_ms=20, reorder=True)

    first, second = _chaotic_run(chaos), _chaotic_run(chaos)
    other_seed = _chaotic_run(WebhookChaos(seed=8, duplicates=0.5, max_delay_ms=20, reorder=True))

    assert first == second
    assert first != [*FLOW, "customer.created"]  # this seed does shuffle and/or duplicate
    assert set(first) == {*FLOW, "customer.created"}  # nothing is lost
    assert len(first) > len(FLOW) + 1  # duplicates
    assert other_seed != first


def test_every_duplicate_is_delivered_before_wait_for_webhooks_returns(receiver: Receiver) -> None:
    chaos = WebhookChaos(seed=1, duplicates=1.0, max_delay_ms=100, reorder=True)
    with StripeEmulator(webhook_endpoints=[(receiver.url, SECRET)], webhook_chaos=chaos) as emulator:
        pay(make_client(emulator), "pm_card_createDispute")

        assert emulator.wait_for_webhooks(timeout=10)
        counts = Counter(event["id"] for event in receiver.events())
        assert set(counts.values()) == {2}
        assert set(counts) == {event["id"] for event in emulator.events()}
        # Each event counts as delivered once, duplicate or not.
        assert [event["pending_webhooks"] for event in emulator.events()] == [0] * len(FLOW)
        for headers, body in receiver.deliveries:  # duplicates are signed like the originals
            stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET)


def test_without_reorder_the_order_is_kept_despite_delays_and_duplicates(receiver: Receiver) -> None:
    chaos = WebhookChaos(seed=3, duplicates=0.5, max_delay_ms=30, reorder=False)
    with StripeEmulator(webhook_endpoints=[(receiver.url, SECRET)], webhook_chaos=chaos) as emulator:
        _run_flow(emulator)

    received = _received(receiver)
    deduplicated = [kind for index, kind in enumerate(received) if index == 0 or received[index - 1] != kind]
    assert deduplicated == [*FLOW, "customer.created"]


def test_chaos_is_per_endpoint_and_controlled_over_http() -> None:
    with serve_receiver() as calm, serve_receiver() as wild, StripeEmulator() as emulator:
        for receiver in (calm, wild):
            assert (
                control(emulator, "webhook_endpoints", {"url": receiver.url, "secret": SECRET}).status == 200
            )
        settings = {"seed": 11, "duplicates": 1.0, "max_delay_ms": 0, "reorder": True, "url": wild.url}

        enabled = control(emulator, "webhooks/chaos", settings)
        shown = raw_request(emulator.url, "GET", "/_emulator/webhooks/chaos", api_key=None)
        pay(make_client(emulator))
        assert emulator.wait_for_webhooks(timeout=10)

        assert enabled.status == 200
        assert shown.json()["endpoints"] == [
            {"url": calm.url, "chaos": None},
            {"url": wild.url, "chaos": {"seed": 11, "duplicates": 1.0, "max_delay_ms": 0, "reorder": True}},
        ]
        assert _received(calm) == FLOW[:3]
        assert sorted(_received(wild)) == sorted(FLOW[:3] * 2)

        disabled = control(emulator, "webhooks/chaos", {"enabled": False})
        calm.deliveries.clear()
        wild.deliveries.clear()
        pay(make_client(emulator))
        assert emulator.wait_for_webhooks(timeout=10)

        assert disabled.json()["endpoints"] == [
            {"url": calm.url, "chaos": None},
            {"url": wild.url, "chaos": None},
        ]
        assert _received(calm) == _received(wild) == FLOW[:3]


def test_reset_reseeds_so_a_rerun_repeats_the_shuffle(receiver: Receiver) -> None:
    chaos = WebhookChaos(seed=5, duplicates=0.4, max_delay_ms=10, reorder=True)
    with StripeEmulator(webhook_endpoints=[(receiver.url, SECRET)], webhook_chaos=chaos) as emulator:
        _run_flow(emulator)
        first = _received(receiver)
        emulator.reset()
        receiver.deliveries.clear()
        _run_flow(emulator)

        assert _received(receiver) == first
        assert emulator.webhook_chaos() == [{"url": receiver.url, "chaos": chaos.describe()}]


def test_reset_puts_chaos_set_at_run_time_back_to_the_constructors(receiver: Receiver) -> None:
    with StripeEmulator(webhook_endpoints=[(receiver.url, SECRET)]) as emulator:
        emulator.set_webhook_chaos(3)
        assert emulator.webhook_chaos() == [{"url": receiver.url, "chaos": WebhookChaos(seed=3).describe()}]

        emulator.reset()

        assert emulator.webhook_chaos() == [{"url": receiver.url, "chaos": None}]


@pytest.mark.parametrize(
    "settings",
    [
        {"duplicates": 0.5},  # no seed
        {"seed": "7"},
        {"seed": 7, "duplicates": 2},
        {"seed": 7, "max_delay_ms": -1},
        {"seed": 7, "reorder": "yes"},
        {"seed": 7, "shuffle": True},
        {"seed": 7, "url": "http://127.0.0.1:1/unknown"},
    ],
)
def test_invalid_chaos_settings_are_rejected(emu: StripeEmulator, settings: dict[str, object]) -> None:
    assert control(emu, "webhooks/chaos", settings).status == 400


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("7", WebhookChaos(seed=7)),
        (
            "seed=7, duplicates=0.1, max_delay_ms=50, reorder=false",
            WebhookChaos(seed=7, duplicates=0.1, max_delay_ms=50, reorder=False),
        ),
    ],
)
def test_the_command_line_form_parses(spec: str, expected: WebhookChaos) -> None:
    assert WebhookChaos.parse(spec) == expected


@pytest.mark.parametrize(
    "spec", ["", "seed=x", "duplicates=0.2", "seed=1,colour=red", "seed=1,reorder=maybe"]
)
def test_bad_command_line_forms_are_errors(spec: str) -> None:
    with pytest.raises(ValueError):
        WebhookChaos.parse(spec)


def test_the_cli_starts_in_chaos_mode_from_the_environment_and_takes_the_settings(receiver: Receiver) -> None:
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "STRIPE_EMULATOR_WEBHOOK_CHAOS": "seed=9,duplicates=1",
        "STRIPE_EMULATOR_HOLD_PAYOUTS": "1",
    }
    env.pop("STRIPE_EMULATOR_PORT", None)
    env.pop("STRIPE_EMULATOR_PENDING_BALANCE", None)
    argv = ["--port", "0", "--webhook-url", receiver.url, "--webhook-secret", SECRET]
    argv += ["--async-balance-transactions", "--search-lag", "5", "--pending-balance"]
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local.stripe_emulator", *argv],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().rsplit(" ", 1)[-1].strip()
        assert "webhook chaos" in process.stdout.readline()

        shown = raw_request(url, "GET", "/_emulator/webhooks/chaos", api_key=None)
        settings = raw_request(url, "GET", "/_emulator/settings", api_key=None)

        assert json.loads(shown.body)["endpoints"][0]["chaos"] == {
            "seed": 9,
            "duplicates": 1.0,
            "max_delay_ms": 200,
            "reorder": True,
        }
        assert json.loads(settings.body) == {
            "async_balance_transactions": True,
            "block_highest_risk": True,
            "hold_payouts": True,
            "pending_balance": True,
            "review_elevated_risk": True,
            "search_lag": 5.0,
        }
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.wait()


def test_the_cli_rejects_a_bad_chaos_setting() -> None:
    process = subprocess.run(
        [sys.executable, "-m", "infra.local.stripe_emulator", "--port", "0", "--webhook-chaos", "seed=x"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert process.returncode == 2
    assert "--webhook-chaos" in process.stderr
