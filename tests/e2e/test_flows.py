"""The running stack driven like a frontend: payments, webhooks, the bus, the schedule, the docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.local.client import request
from infra.local.runtime import code_exists
from tests.e2e.conftest import WEBHOOK_SECRET
from tests.e2e.frontend import Frontend

pytestmark = pytest.mark.e2e


def test_banner_gives_urls_tokens_secret_and_curl(frontend: Frontend) -> None:
    output = frontend.stack.output()
    site = frontend.state.api_url.removesuffix("/v1")
    for expected in (frontend.state.api_url, "export CUSTOMER_TOKEN=", "export OTHER_CUSTOMER_TOKEN=",
                     "export ADMIN_TOKEN=", WEBHOOK_SECRET, "curl -s -X POST",
                     f"Console        {site}/console/", f"Checkout       {site}/checkout/"):  # fmt: skip
        assert expected in output
    assert frontend.state.webhook_secret == WEBHOOK_SECRET


def test_a_card_payment_succeeds_is_readable_and_published(frontend: Frontend) -> None:
    created = frontend.pay(amount=2599)

    assert created.status == 201, created.body
    payment = created.json
    assert payment["status"] == "succeeded"
    assert payment["customer_id"] == "alice"
    assert frontend.alice.get(f"/payments/{payment['id']}").json["status"] == "succeeded"
    listed = frontend.alice.get("/payments").json["data"]
    assert payment["id"] in [p["id"] for p in listed]
    history = frontend.alice.get(f"/payments/{payment['id']}/events").json["data"]
    assert "PaymentProcessed" in [e["event_type"] for e in history]
    frontend.wait_for_output("bus", f"PaymentProcessed {payment['id']}")
    frontend.wait_for_output("api", "POST /v1/payments 201 process_payment", "sub=alice")


def test_a_replayed_request_gets_the_first_answer(frontend: Frontend) -> None:
    first = frontend.pay(key="e2e-replay-key", amount=1234, description="same body")
    again = frontend.alice.post(
        "/payments", _same_body(first.json), idempotency_key="e2e-replay-key"
    )  # the same order and body

    assert again.status == first.status == 201
    assert again.header("Idempotent-Replayed") == "true"
    assert again.json["id"] == first.json["id"]


def _same_body(payment: dict[str, object]) -> dict[str, object]:
    return {"order_id": payment["order_id"], "amount": 1234, "currency": "usd",
            "payment_method_id": "pm_card_visa", "description": "same body"}  # fmt: skip


def test_a_declined_card_is_402_and_kept_as_failed(frontend: Frontend) -> None:
    declined = frontend.pay("pm_card_chargeDeclined")

    assert declined.status == 402
    assert declined.header("Content-Type") == "application/problem+json"
    assert declined.code == "card_declined"
    failed = frontend.alice.get(f"/payments/{declined.json['payment_id']}").json
    assert failed["status"] == "failed"


def test_another_customers_payment_is_not_found(frontend: Frontend) -> None:
    payment = frontend.pay().json

    assert frontend.bob.get(f"/payments/{payment['id']}").status == 404
    assert frontend.admin.get(f"/payments/{payment['id']}").status == 200


def test_manual_capture_by_an_admin(frontend: Frontend) -> None:
    held = frontend.pay(amount=7500, capture="manual").json
    assert held["status"] == "requires_capture"

    assert frontend.alice.post(f"/payments/{held['id']}/capture").status in (403, 404)
    captured = frontend.admin.post(f"/payments/{held['id']}/capture")

    assert captured.status == 200, captured.body
    assert captured.json["amount_captured"] == 7500


def test_webhook_drives_the_payment_status(frontend: Frontend) -> None:
    missing = [name for name in ("stripe_webhook", "payment_status") if not code_exists(name)]
    if missing:
        pytest.skip(
            f"the webhook-driven status change needs functions/{'/app.py, functions/'.join(missing)}/app.py"
        )
    payment = frontend.pay("pm_card_authenticationRequired", return_url="https://shop.example/done").json
    assert payment["status"] == "requires_action"
    page = payment["next_action"]["redirect_to_url"]["url"]

    challenge = request("GET", f"{page}?outcome=succeed")  # the cardholder completes 3-D Secure

    assert challenge.status == 302
    done = frontend.wait_for_payment(payment["id"], lambda p: p["status"] == "succeeded")
    assert done["amount_captured"] == payment["amount"]
    frontend.wait_for_output("webhook", "payment_intent.succeeded", " 200 ")
    frontend.wait_for_output("dispatch", "payment_intent.succeeded", "payment_status ok")


def test_a_forged_webhook_is_refused(frontend: Frontend) -> None:
    if not code_exists("stripe_webhook"):
        pytest.skip("functions/stripe_webhook/app.py is not written yet")
    forged = request(
        "POST",
        f"{frontend.state.api_url}/webhooks/stripe",
        body=b'{"id":"evt_forged","object":"event","type":"payment_intent.succeeded"}',
        headers={"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"},
    )

    assert forged.status == 400


def test_the_outbox_relay_runs_on_its_timer(frontend: Frontend) -> None:
    line = frontend.wait_for_output("timer", "outbox_relay ok", timeout_s=15)

    assert '"published"' in line


def test_function_logs_are_kept_per_function(frontend: Frontend) -> None:
    frontend.pay()
    log = Path(frontend.state.log_dir) / "functions" / "process_payment.log"

    assert "START RequestId:" in log.read_text()
    assert "REPORT RequestId:" in log.read_text()


def test_openapi_and_offline_swagger_ui(frontend: Frontend) -> None:
    base = frontend.state.api_url

    document = request("GET", f"{base}/openapi.json").json
    page = request("GET", f"{base}/docs")
    script = request("GET", f"{base}/docs/swagger-ui-bundle.js")
    rendered = request("GET", f"{base}/docs/openapi-3.0.json").json

    assert document["openapi"].startswith("3.1")
    assert "/payments" in document["paths"]
    assert document["servers"][0]["url"] == "/v1"
    assert page.status == 200
    assert "/v1/docs/swagger-ui-bundle.js" in page.body.decode()
    assert "//cdn" not in page.body.decode()
    assert "https://" not in page.body.decode()  # every asset from the gateway itself: works offline
    assert script.status == 200
    assert script.header("Content-Type") in ("text/javascript", "application/javascript")
    assert rendered["openapi"] == "3.0.3"
