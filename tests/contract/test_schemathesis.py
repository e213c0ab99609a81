"""schemathesis over every operation of openapi.json, against the local stack as `make dev` runs it.

Each operation gets schemathesis' examples, coverage and fuzzing phases (positive and negative data),
seeded and derandomized, with a bounded number of fuzzed examples, as a customer or an admin (admin-only
routes: always the admin). Checks: no 5xx, every status documented, every Content-Type and body and
header as documented. Two real payments are created first and offered as path examples, and the request
bodies get examples with Stripe's test cards (and the customer's orders their order tokens), so success
answers are checked too, not only errors.

Stripe's webhook is fuzzed as well: nobody but Stripe (and the emulator) can sign a body with the
endpoint's secret, so every answer must be a documented 400 (`signature_invalid`, `malformed_event`, or
API Gateway's `validation_error` without the header), never a 5xx and never a 200.

`-m contract_fuzz` selects it; FUZZ_EXAMPLES bounds the fuzzing phase per operation.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from infra import catalog
from payments.domain.ids import payment_id_for
from tests.contract.conftest import CUSTOMER, FUZZ_MARKER, FuzzTarget
from tests.support.order_tokens import order_token
from tools.openapi import OUTPUT

pytestmark = [pytest.mark.e2e, getattr(pytest.mark, FUZZ_MARKER)]

SEED = 20261201
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
REQUEST_TIMEOUT_S = 60.0
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
WEBHOOK = next(fn.route for fn in catalog.api_functions() if fn.route and not fn.route.authorizer)
ADMIN_ONLY = {
    (fn.route.method, fn.route.path) for fn in catalog.api_functions() if fn.route and fn.route.admin_only
}


def config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",  # valid and invalid data
                "max-examples": FUZZ_EXAMPLES,
                "deterministic": True,  # derandomized: the same cases every run
                "database": "none",  # nothing written to .hypothesis/
            },
            "request-timeout": REQUEST_TIMEOUT_S,
        }
    )


# Payment ids derive from the caller and the Idempotency-Key: known before the stack runs, so the schema
# (loaded when pytest collects) can offer them as examples; `seeded` creates them before any case runs.
SEEDS = {
    "automatic": payment_id_for(CUSTOMER, "fuzz-seed-automatic"),  # succeeded: refundable
    "manual": payment_id_for(CUSTOMER, "fuzz-seed-manual"),  # requires_capture: capturable, cancelable
}


@pytest.fixture(scope="module")
def seeded(fuzz_target: FuzzTarget) -> dict[str, str]:
    customer = fuzz_target.customer()
    for capture, payment_id in SEEDS.items():
        order = order_token(f"fuzz-seed-{capture}", 2599, "usd", CUSTOMER)
        body = {"order_token": order, "payment_method_id": "pm_card_visa", "capture": capture}
        paid = customer.post("/payments", body, idempotency_key=f"fuzz-seed-{capture}")
        assert (paid.status, paid.json["id"]) == (201, payment_id), paid.body
    return SEEDS


def with_examples(document: dict[str, Any]) -> dict[str, Any]:
    """The seeded payments as path parameter examples, and bodies that reach Stripe (its test cards)."""
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] == "payment_id":
                    parameter["examples"] = {name: {"value": value} for name, value in SEEDS.items()}
    schemas = document["components"]["schemas"]
    payment = copy.deepcopy(schemas["ProcessPaymentRequest"])
    payment["properties"]["payment_method_id"]["examples"] = [
        "pm_card_visa",
        "pm_card_chargeDeclined",
        "pm_card_authenticationRequired",
    ]
    # The customer's orders come with their order tokens (the Order Service's); a trusted caller may
    # state the terms itself (the last one: 400 order_token_required when it runs as the customer).
    visa = {"payment_method_id": "pm_card_visa"}
    payment["examples"] = [
        {**visa, "order_token": order_token("fuzz-1", 1250, "usd", CUSTOMER)},
        {
            "order_token": order_token("fuzz-2", 1250, "jpy", CUSTOMER),
            "payment_method_id": "pm_card_chargeDeclined",
        },
        {
            **visa,
            "order_token": order_token("fuzz-3", 1250, "eur", CUSTOMER),
            "currency": "EUR",
            "capture": "manual",
            "customer_id": CUSTOMER,
        },
        {**visa, "order_id": "fuzz-4", "amount": 1250, "currency": "usd", "customer_id": CUSTOMER},
    ]
    schemas["ProcessPaymentRequest"] = payment
    schemas["SavePaymentMethodRequest"]["examples"] = [{"payment_method_id": "pm_card_mastercard"}]
    schemas["RefundRequest"]["examples"] = [{"amount": 100, "reason": "requested_by_customer"}, {}]
    return document


schema = schemathesis.openapi.from_dict(with_examples(json.loads(OUTPUT.read_text())), config=config())


@schema.parametrize()
def test_every_operation_answers_as_documented(
    case: schemathesis.Case[Any], fuzz_target: FuzzTarget, seeded: dict[str, str]
) -> None:
    operation = case.operation
    headers = {}
    if operation.path != WEBHOOK.path:
        admin = (operation.method.upper(), operation.path) in ADMIN_ONLY or as_admin(case)
        token = fuzz_target.admin_token if admin else fuzz_target.customer_token
        headers["Authorization"] = f"Bearer {token}"

    response = case.call_and_validate(base_url=fuzz_target.api_url, headers=headers, checks=CHECKS)

    if (case.method.upper(), operation.path) == (WEBHOOK.method, WEBHOOK.path):
        assert response.status_code == 400, "an unsigned (or badly signed) webhook must be refused with 400"


def as_admin(case: schemathesis.Case[Any]) -> bool:
    """Half the cases run as the admin, decided by the case's content, so every run makes the same
    choices (schemathesis does not combine schema examples with a drawn parameter)."""
    parts = [case.path_parameters, case.query, case.headers, case.body]
    content = json.dumps([None if isinstance(p, NotSet) else p for p in parts], sort_keys=True, default=repr)
    return hashlib.sha256(content.encode()).digest()[0] % 2 == 0


def test_the_fuzzing_is_seeded_and_bounded() -> None:
    settings = config().projects.default.get_hypothesis_settings(phase="fuzzing")

    assert settings.derandomize is True
    assert settings.database is None
    assert settings.max_examples == FUZZ_EXAMPLES
    assert config().seed == SEED
