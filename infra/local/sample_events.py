"""Write events/api/<function>.json: one realistic API Gateway REST event per catalog route.

Run `python -m infra.local.sample_events` after adding a route; tests invoke every sample.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra import catalog
from infra.local.apigw import build_rest_event, cognito_claims

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_IDS = {"payment_id": "pay_example0000000000000000", "payment_method_id": "pm_example"}
BODIES: dict[str, Any] = {
    "process_payment": {
        "order_id": "order-1001",
        "amount": 2599,
        "currency": "usd",
        "payment_method_id": "pm_card_visa",
        "description": "Order 1001",
        "metadata": {"channel": "web"},
    },
    "refund_payment": {"amount": 500, "reason": "requested_by_customer"},
    "save_payment_method": {"payment_method_id": "pm_card_visa"},
}
ADMIN_FUNCTIONS = {"capture_payment", "refund_payment"}


def sample_event(fn: catalog.Function) -> dict[str, Any]:
    assert fn.route is not None
    path = fn.route.path.format(**EXAMPLE_IDS)
    params = {k: v for k, v in EXAMPLE_IDS.items() if "{" + k + "}" in fn.route.path}
    headers = {"Content-Type": "application/json", "User-Agent": "sample"}
    if fn.route.method in ("POST", "DELETE"):
        headers["Idempotency-Key"] = f"sample-{fn.name}"
    body = BODIES.get(fn.name)
    return build_rest_event(
        fn.route.method,
        fn.route.path,
        path,
        headers=headers,
        body=json.dumps(body) if body is not None else None,
        claims=cognito_claims(
            "admin-1" if fn.name in ADMIN_FUNCTIONS else "cus_example", admin=fn.name in ADMIN_FUNCTIONS
        )
        if fn.route.authorizer
        else None,
        path_parameters=params,
    )


def main() -> None:
    folder = ROOT / "events" / "api"
    folder.mkdir(parents=True, exist_ok=True)
    for fn in catalog.api_functions():
        if fn.name == "stripe_webhook":
            continue  # its samples are signed Stripe events (events/stripe)
        event = sample_event(fn)
        event["requestContext"]["requestId"] = f"sample-{fn.name}"
        event["requestContext"]["requestTime"] = "26/Nov/2026:12:00:00 +0000"
        event["requestContext"]["requestTimeEpoch"] = 1795694400000
        (folder / f"{fn.name}.json").write_text(json.dumps(event, indent=2) + "\n")
        print(f"wrote events/api/{fn.name}.json")


if __name__ == "__main__":
    main()
