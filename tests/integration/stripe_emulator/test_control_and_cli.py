"""The control API's plumbing, the Python lifecycle, and the command-line entry point."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

from .conftest import control, make_client, pay, raw_request

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_health_and_reset(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client)
    health = raw_request(emu.url, "GET", "/_emulator/health", api_key=None)

    reset = control(emu, "reset")

    assert (health.status, health.json()) == (200, {"status": "ok"})
    assert reset.status == 200
    assert emu.payment_intents() == []
    assert emu.events() == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.retrieve(intent.id)


def test_control_errors_are_json(emu: StripeEmulator) -> None:
    unknown = control(emu, "nothing")
    bad_json = raw_request(emu.url, "POST", "/_emulator/reset", body="{", api_key=None)
    bad_outcome = control(emu, "disputes/dp_x/close", {"outcome": "maybe"})
    missing = control(emu, "payment_intents/pi_missing/authenticate")

    assert unknown.status == 404
    assert bad_json.status == 400
    assert (bad_outcome.status, bad_outcome.json()["error"]["param"]) == (400, "outcome")
    assert (missing.status, missing.json()["error"]["code"]) == (404, "resource_missing")


def test_the_emulator_binds_only_to_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        StripeEmulator(host="0.0.0.0")


def test_start_stop_lifecycle() -> None:
    emulator = StripeEmulator().start()
    url = emulator.url
    assert make_client(emulator).v1.customers.list().data == []

    emulator.stop()
    emulator.stop()  # idempotent

    with pytest.raises(stripe.APIConnectionError):
        stripe.StripeClient(
            "sk_test_x", base_addresses={"api": url}, max_network_retries=0
        ).v1.customers.list()
    with pytest.raises(RuntimeError):
        emulator.start()


def _cli(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("STRIPE_EMULATOR_PORT", None)
    return subprocess.Popen(
        [sys.executable, "-m", "infra.local.stripe_emulator", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_serves_logs_and_stops_on_sigterm() -> None:
    process = _cli("--port", "0")
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in banner
        url = banner.rsplit(" ", 1)[-1].strip()
        client = stripe.StripeClient("sk_test_cli", base_addresses={"api": url}, max_network_retries=0)
        client.v1.customers.create()
        request_line = process.stdout.readline()
        assert "POST /v1/customers -> 200 req_" in request_line

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.wait()


def test_cli_exits_2_when_the_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        process = _cli("--port", str(port))
        _, stderr = process.communicate(timeout=10)

    assert process.returncode == 2
    assert stderr.strip() == f"stripe-emulator: port {port} on 127.0.0.1 is already in use"


def test_cli_requires_a_secret_with_a_webhook_url() -> None:
    process = _cli("--port", "0", "--webhook-url", "http://127.0.0.1:1/hook")
    _, stderr = process.communicate(timeout=10)

    assert process.returncode == 2
    assert "--webhook-secret" in stderr


def test_cli_help_lists_every_option() -> None:
    process = _cli("--help")
    stdout, _ = process.communicate(timeout=10)

    assert process.returncode == 0
    options = ("--webhook-url", "--webhook-chaos", "--async-balance-transactions", "--search-lag")
    for option in (*options, "--pending-balance", "--hold-payouts"):
        assert option in stdout
