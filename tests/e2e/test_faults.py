"""Faults: a taken port, the Stripe emulator dying mid-run, a subscriber that keeps failing."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local import resources
from infra.local.console import Console
from infra.local.environment import aws_client, base_environment
from infra.local.launcher import leftover_processes
from infra.local.ports import free_port, in_use
from infra.local.settings import ROOT, LocalSettings
from infra.local.stack import LocalStack, StartupError, build_dispatcher
from tests.e2e.frontend import Frontend, free_ports, start_stack

pytestmark = pytest.mark.e2e


def test_a_port_in_use_stops_make_dev_before_anything_starts(tmp_path: Path) -> None:
    ports = free_ports()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(ports["LOCAL_GATEWAY_PORT"])))
        squatter.listen()
        run = subprocess.Popen(
            [sys.executable, "-m", "infra.local.dev"],
            cwd=ROOT,
            env={**base_environment(), **ports, "LOCAL_STATE_DIR": str(tmp_path), "NO_COLOR": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        output = run.communicate(timeout=30)[0].decode()

    assert run.returncode == 2
    assert f"port {ports['LOCAL_GATEWAY_PORT']} (local API gateway) is already in use" in output
    assert f"LOCAL_GATEWAY_PORT={int(ports['LOCAL_GATEWAY_PORT']) + 1} make dev" in output
    assert "Nothing was started." in output
    assert not in_use(int(ports["MOTO_PORT"]))
    assert not in_use(int(ports["MOTO_DYNAMODB_PORT"]))
    assert not in_use(int(ports["STRIPE_EMULATOR_PORT"]))
    assert leftover_processes(run.pid) == []
    assert not (tmp_path / "dev.json").exists()


def test_a_component_failing_to_start_stops_what_started_before_it(tmp_path: Path) -> None:
    settings = LocalSettings.from_env({**free_ports(), "LOCAL_STATE_DIR": str(tmp_path)})
    output = io.StringIO()
    stack = LocalStack(settings, Console(output, color=False))
    with socket.socket() as squatter:  # taken after make dev's port check, before the gateway starts
        squatter.bind(("127.0.0.1", settings.gateway_port))
        squatter.listen()
        with pytest.raises(StartupError, match=f"the gateway cannot listen on port {settings.gateway_port}"):
            stack.start()

    assert "moto listening" in output.getvalue()
    assert "moto-dynamodb listening" in output.getvalue()
    assert "stripe-emulator listening" in output.getvalue()
    assert not in_use(settings.moto_port)
    assert not in_use(settings.moto_dynamodb_port)
    assert not in_use(settings.stripe_port)
    assert not settings.state_file.exists()


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[Frontend]:
    launched = start_stack(tmp_path)
    yield Frontend(launched)
    assert launched.stop() == [], "make dev left processes running"


def test_the_emulator_stopping_mid_run_gives_503_and_no_charge(own_stack: Frontend) -> None:
    frontend = own_stack
    assert frontend.pay().status == 201  # Stripe works
    emulator = frontend.state.processes["stripe-emulator"]

    os.kill(emulator, signal.SIGTERM)
    _wait_until_gone(emulator)
    order = {
        "order_id": "e2e-emulator-down",
        "amount": 2599,
        "currency": "usd",
        "payment_method_id": "pm_card_visa",
    }
    failed = frontend.alice.post("/payments", order, idempotency_key="e2e-emulator-down")
    retried = frontend.alice.post("/payments", order, idempotency_key="e2e-emulator-down")

    assert failed.status == 503, failed.body
    assert failed.code == "payment_provider_unavailable"
    assert failed.header("Retry-After")
    assert retried.status == 503
    assert retried.header("Idempotent-Replayed") is None  # a 5xx is never stored, so never replayed
    for_order = [
        p for p in frontend.alice.get("/payments").json["data"] if p["order_id"] == order["order_id"]
    ]
    assert all(p["status"] in ("pending", "failed") and p["amount_captured"] == 0 for p in for_order)
    frontend.wait_for_output("stack", "the Stripe emulator exited")


def _wait_until_gone(pid: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while _exists(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _exists(pid), f"the emulator (pid {pid}) did not stop"


def _exists(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_failing_subscriber_is_retried_then_parked_in_its_dlq() -> None:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        _fail_three_times_into_the_dlq(f"http://127.0.0.1:{port}")
    finally:
        server.stop()


def _fail_three_times_into_the_dlq(moto_url: str) -> None:
    events, sqs = aws_client("events", moto_url), aws_client("sqs", moto_url)
    resources.create_bus(events)
    routes = resources.create_subscriber_routes(events, sqs)
    calls: list[dict[str, Any]] = []

    def broken(event: dict[str, Any], _context: Any) -> None:
        calls.append(event)
        raise RuntimeError("subscriber bug")

    output = io.StringIO()
    dispatcher = build_dispatcher(sqs, routes, {"payment_status": broken}, Console(output, color=False),
                                  is_ready=lambda name: name == "payment_status")  # fmt: skip
    entry = {"Source": "stripe", "DetailType": "payment_intent.succeeded", "Detail": '{"id": "evt_e2e"}'}
    events.put_events(Entries=[{"EventBusName": "payments", **entry}])
    dlq_url = routes["payment_status"][1]
    parked: list[dict[str, Any]] = []
    deadline = time.monotonic() + 20
    while not parked and time.monotonic() < deadline:
        dispatcher.poll_once()
        parked = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
        time.sleep(0.2)

    assert [d.outcome for d in dispatcher.log] == ["retry", "retry", "dlq"]
    assert len(calls) == 3
    assert all(event["account"] for event in calls)  # filled in, as EventBridge always sends it
    record = json.loads(parked[0]["Body"])  # Lambda's on-failure record, as the deployed DLQ gets it
    assert record["requestPayload"]["detail-type"] == "payment_intent.succeeded"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responsePayload"]["errorMessage"] == "subscriber bug"
    lines = output.getvalue().splitlines()
    assert "FAILED attempt 1/3, retry in 1 s: RuntimeError: subscriber bug" in lines[0]
    assert "FAILED attempt 2/3, retry in 2 s" in lines[1]
    assert "FAILED 3 times, parked in DLQ payment_status-dlq: RuntimeError: subscriber bug" in lines[2]
