"""The external hook through POST /v1/payments: the real adapter against the loopback stand-in of
Lambda's Invoke API (tests/integration/risk/test_risk_hook.py), on moto and the Stripe emulator. Its
verdict decides with the other checks; a hook that misses its timeout counts as on_failure: fail-open
lets the payment through, fail-closed blocks it before Stripe."""

from __future__ import annotations

import pytest

from tests.integration.risk.test_risk_hook import LambdaStandIn, lambda_api, verdict
from tests.integration.risk_checks.conftest import admin, pay, use_rules

__all__ = ["lambda_api"]  # the stand-in's fixture, used by name below

HOOK = "risk-hook-scorer"


def hooked(on_failure: str = "review", timeout_ms: int = 5000) -> None:
    """The rules with the hook; the longest timeout the rules allow, unless a test is about it (a busy
    machine must not turn an answer into a timeout)."""
    use_rules(external_hook={"function_name": HOOK, "timeout_ms": timeout_ms, "on_failure": on_failure})


def reasons_of(payment_id: str) -> list[tuple[str, str, str]]:
    decision = admin("GET", f"/payments/{payment_id}").body["risk"]["decision"]
    return [(r["check"], r["code"], r["decision"]) for r in decision["reasons"]]


@pytest.mark.parametrize(
    ("verdict_", "status", "payment_status"),
    [("allow", 201, "succeeded"), ("review", 201, "requires_capture"), ("block", 402, None)],
)
def test_the_hooks_verdict_decides(
    aws, emulator, lambda_api: LambdaStandIn, verdict_, status, payment_status
):
    reasons = [{"code": "device_reused", "message": "seen on 40 accounts"}] if verdict_ != "allow" else []
    lambda_api.answers[HOOK] = lambda _: verdict({"decision": verdict_, "reasons": reasons})
    hooked()

    response = pay()

    assert response.status == status, response.body
    payment_id = response.body.get("id") or response.body["payment_id"]
    if payment_status is not None:
        assert response.body["status"] == payment_status
    expected_code = "device_reused" if reasons else "external_allow"
    assert reasons_of(payment_id) == [("external", expected_code, verdict_)]
    ((name, payload, _),) = lambda_api.received
    assert name == HOOK
    facts = payload["facts"]
    assert (facts["payment_id"], facts["amount"], facts["currency"]) == (payment_id, 2500, "usd")
    assert facts["source_ip"] == "203.0.113.9"
    assert facts["card"]["fingerprint"]  # the one-off card Stripe described, never its number
    if verdict_ == "block":
        assert emulator.payment_intents() == []


@pytest.mark.parametrize(("on_failure", "status"), [("allow", 201), ("block", 402)])
def test_a_hook_that_misses_its_timeout_fails_open_or_closed(aws, emulator, lambda_api, on_failure, status):
    lambda_api.answers[HOOK] = lambda _: verdict({"decision": "allow"}, delay=1.5)
    hooked(on_failure=on_failure, timeout_ms=300)

    response = pay()

    # The late "allow" is dropped: fail-closed blocks.
    assert response.status == status, response.body
    payment_id = response.body.get("id") or response.body["payment_id"]
    assert reasons_of(payment_id) == [("external", "external_timeout", on_failure)]
    assert len(lambda_api.received) == 1  # asked once
    if status == 402:
        assert emulator.payment_intents() == []


def test_a_hook_that_is_not_there_counts_as_on_failure(aws, emulator, lambda_api):
    hooked(on_failure="review")  # no answer registered: Lambda answers 404
    response = pay()
    assert response.status == 201, response.body
    assert response.body["status"] == "requires_capture"
    assert reasons_of(response.body["id"]) == [("external", "external_error", "review")]
