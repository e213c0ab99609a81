"""Admin-only routes are the catalog's: its route flag (through ADMIN_ROUTES) refuses everyone else
before a handler runs, and a function told nothing answers no one (it fails closed)."""

from __future__ import annotations

import pytest

from infra import catalog
from infra.local.apigw import build_rest_event, cognito_claims
from payments import services
from tests.support.api import call, invoke_event

ADMIN_ONLY = [fn for fn in catalog.api_functions() if fn.route and fn.route.admin_only]


def admin_path(fn: catalog.Function, payment_id: str) -> str:
    assert fn.route is not None
    return fn.route.path.format(
        payment_id=payment_id,
        run_id="rec_2026-12-01_2026-12-01",
        dispute_id="dp_admin_only",
        entry_id="blk_adminonly",
    )


def manual_payment() -> str:
    body = {
        "order_id": "order-admin-1",
        "amount": 1500,
        "currency": "usd",
        "payment_method_id": "pm_card_visa",
        "capture": "manual",
    }
    created = call("POST", "/payments", body=body)
    assert created.status == 201, created.body
    return str(created.body["id"])


def test_the_catalog_flags_the_back_office_routes():
    assert {fn.name for fn in ADMIN_ONLY} == {
        "capture_payment",
        "refund_payment",
        "ledger_balances",
        "ledger_entries",
        "start_reconciliation_run",
        "list_reconciliation_runs",
        "get_reconciliation_run",
        "get_reconciliation_differences",
        "list_disputes",
        "get_dispute",
        "submit_dispute_evidence",
        "accept_dispute",
        "risk_get_rules",
        "risk_put_rules",
        "risk_list_blocklist",
        "risk_add_blocklist_entry",
        "risk_remove_blocklist_entry",
        "risk_list_audit",
    }


@pytest.mark.parametrize("fn", ADMIN_ONLY, ids=lambda fn: fn.name)
def test_a_customer_is_refused_on_every_admin_route_and_nothing_happens(aws, emulator, fn):
    payment_id = manual_payment()
    assert fn.route is not None
    refused = call(
        fn.route.method, admin_path(fn, payment_id), body={} if fn.name == "refund_payment" else None
    )
    assert (refused.status, refused.body["code"]) == (403, "forbidden")
    # Refused before the handler: no idempotency record, no Stripe call, the payment untouched.
    assert aws["dynamodb"].scan(TableName="idempotency")["Count"] == 1  # the payment's own POST
    assert [pi["status"] for pi in emulator.payment_intents()] == ["requires_capture"]
    assert call("GET", f"/payments/{payment_id}").body["version"] == 2


@pytest.mark.parametrize("fn", ADMIN_ONLY, ids=lambda fn: fn.name)
def test_an_admin_passes_the_route_check(aws, emulator, fn):
    payment_id = manual_payment()
    assert fn.route is not None
    answered = call(fn.route.method, admin_path(fn, payment_id), sub="admin-1", admin=True)
    assert answered.status != 403, answered.body


def test_a_function_not_told_its_admin_routes_refuses_every_request(aws, emulator, monkeypatch):
    monkeypatch.delenv("ADMIN_ROUTES")
    services.reset()
    # The invocation fails (API Gateway answers its 5xx problem); nothing runs unchecked.
    with pytest.raises(RuntimeError, match="ADMIN_ROUTES is not set"):
        call("GET", "/payments/pay_unknown")


def test_an_event_without_its_resource_template_is_checked_by_its_path(aws, emulator):
    payment_id = manual_payment()
    event = build_rest_event(
        "POST",
        "/payments/{payment_id}/capture",
        f"/payments/{payment_id}/capture",
        headers={"Content-Type": "application/json", "Idempotency-Key": "no-template"},
        claims=cognito_claims("cus_alice"),
        path_parameters={"payment_id": payment_id},
    )
    del event["resource"]  # a direct invocation may leave it out; the resolver routes on the path
    refused = invoke_event("capture_payment", event)
    assert (refused.status, refused.body["code"]) == (403, "forbidden")
    assert [pi["status"] for pi in emulator.payment_intents()] == ["requires_capture"]
