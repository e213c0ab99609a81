"""`make token`, `make invoke` and `make demo` against the running stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from infra import catalog
from infra.local.environment import base_environment
from infra.local.runtime import code_exists
from infra.local.settings import ROOT
from infra.local.tokens import verify_token
from tests.e2e.frontend import Frontend

pytestmark = pytest.mark.e2e


def run_tool(frontend: Frontend, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """As the Makefile runs it, pointed at the test stack through its state directory."""
    env = {**base_environment(), "LOCAL_STATE_DIR": str(Path(frontend.state.log_dir).parent)}
    command = [sys.executable, "-m", module, *args]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_make_token_prints_only_a_token_the_gateway_accepts(frontend: Frontend) -> None:
    result = run_tool(frontend, "infra.local.tokens", "--role", "admin", "--sub", "ops")

    token = result.stdout.strip()
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 1
    claims = verify_token(frontend.state.jwt_secret, token)
    assert (claims["sub"], claims["cognito:groups"]) == ("ops", [catalog.ADMIN_GROUP])


def test_make_invoke_shows_the_response_the_logs_and_the_events(frontend: Frontend) -> None:
    result = run_tool(frontend, "infra.local.invoke", "process_payment", "events/api/process_payment.json")

    assert result.returncode == 0, result.stderr
    assert "no local stack is running" not in result.stdout  # it used the running one
    assert "== Response of process_payment" in result.stdout
    assert "HTTP 201" in result.stdout
    assert "REPORT RequestId:" in result.stdout
    assert "PaymentProcessed pay_" in result.stdout.split("== Events emitted on the bus")[1]


def test_make_invoke_signs_a_stripe_event_for_the_webhook(frontend: Frontend) -> None:
    if not code_exists("stripe_webhook"):
        pytest.skip("functions/stripe_webhook/app.py is not written yet")
    result = run_tool(
        frontend, "infra.local.invoke", "stripe_webhook", "events/stripe/payment_intent.canceled.json"
    )

    assert result.returncode == 0, result.stderr
    assert "HTTP 200" in result.stdout
    assert "payment_intent.canceled" in result.stdout.split("== Events emitted on the bus")[1]


def test_make_demo_walks_every_flow(frontend: Frontend) -> None:
    result = run_tool(frontend, "infra.local.demo")

    summary = result.stdout.split("== Summary")[-1]
    assert result.returncode == 0, result.stdout[-3000:]
    assert "FAILED" not in summary
    if code_exists("accounting"):
        assert "trial balance 0.00 USD" in result.stdout
    if code_exists("start_reconciliation_run"):
        assert "completed: 0 unexplained differences" in result.stdout
