"""The local stand-ins for Cognito and the Order Service (infra/local/tokens.py): the kinds of tokens the
deployed authorizer takes (access tokens with one of the catalog's API_SCOPES), and none other."""

from __future__ import annotations

import json
import time
import uuid

import jwt
import pytest

from infra import catalog
from infra.local.client import ApiClient
from infra.local.gateway import Request
from infra.local.resources import local_order_token_keys
from infra.local.tokens import DEFAULT_SUBS, ISSUER, issue_order_token, issue_token, main
from payments.adapters.order_tokens import JoseOrderTokens
from payments.domain.money import Money
from tests.e2e.frontend import Frontend
from tests.e2e.test_gateway_unit import SECRET, FakeFunctions, gateway

pytestmark = pytest.mark.e2e


def get(token: str) -> tuple[int, dict[str, str] | None]:
    functions = FakeFunctions()
    response = gateway(functions)[0].handle(
        Request("GET", "/v1/payments", [("Authorization", f"Bearer {token}")])
    )
    claims = functions.events[0]["requestContext"]["authorizer"]["claims"] if functions.events else None
    return response.status, claims


def test_people_and_services_get_access_tokens_the_gateway_takes() -> None:
    status, customer = get(issue_token(SECRET, "alice"))
    assert status == 200
    assert customer
    assert (customer["scope"], customer["token_use"]) == (catalog.USER_SCOPE, "access")
    assert "cognito:groups" not in customer
    status, admin = get(issue_token(SECRET, "ops", admin=True))
    assert status == 200
    assert admin
    assert admin["cognito:groups"] == catalog.ADMIN_GROUP
    status, service = get(issue_token(SECRET, "svc-orders", service=True))
    assert status == 200
    assert service
    assert (service["sub"], service["client_id"]) == ("svc-orders", "svc-orders")
    assert service["scope"] == catalog.SERVICE_SCOPE
    assert "username" not in service  # client credentials: no user


def forged(**claims: object) -> str:
    now = int(time.time())
    base = {"sub": "alice", "iss": ISSUER, "iat": now, "exp": now + 600}
    return jwt.encode({**base, **claims}, SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"token_use": "id", "email": "alice@example.com"},  # an ID token: methods with scopes refuse it
        {"token_use": "access", "scope": "openid email"},  # no scope of the API's
        {"token_use": "access", "scope": "payments/admin"},
        {"token_use": "access"},
        {"token_use": "access", "scope": ["payments/service"]},
    ],
)
def test_tokens_the_deployed_authorizer_refuses_are_401(claims: dict[str, object]) -> None:
    assert get(forged(**claims))[0] == 401


def test_the_scope_reaches_the_function_space_separated() -> None:
    status, claims = get(forged(token_use="access", scope=f"openid {catalog.SERVICE_SCOPE}"))
    assert status == 200
    assert claims
    assert claims["scope"] == f"openid {catalog.SERVICE_SCOPE}"


def test_make_token_and_make_order_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--role", "service"]) == 0
    service = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    assert (service["sub"], service["scope"]) == (DEFAULT_SUBS["service"], catalog.SERVICE_SCOPE)

    assert main(["--order", "order-7", "--amount", "1250", "--currency", "EUR", "--sub", "bob"]) == 0
    printed = capsys.readouterr().out
    assert len(printed.splitlines()) == 1
    tokens = JoseOrderTokens(lambda: json.dumps(local_order_token_keys()), catalog.ORDER_TOKEN_ISSUER)
    terms = tokens.verify(printed.strip())
    assert (terms.order_id, terms.customer_id, terms.money) == ("order-7", "bob", Money(1250, "eur"))


def test_make_order_token_needs_amount_and_currency(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--order", "order-7", "--amount", "1250"])
    assert "--currency" in capsys.readouterr().err


def test_order_tokens_of_the_same_order_and_moment_are_the_same() -> None:
    """EdDSA is deterministic: a client sending the same request again sends the same bytes."""
    assert issue_order_token("o-1", 100, "usd", "alice", now=1) == issue_order_token(
        "o-1", 100, "usd", "alice", now=1
    )


def test_the_running_stack_takes_payments_by_order_token(frontend: Frontend) -> None:
    """Through the local gateway and the worker processes, with the local secret's keys."""
    order = f"e2e-token-{uuid.uuid4().hex[:8]}"
    token = issue_order_token(order, 3100, "eur", "alice")
    paid = frontend.alice.post("/payments", {"order_token": token, "payment_method_id": "pm_card_visa"})
    assert paid.status == 201, paid.body
    assert (paid.json["order_id"], paid.json["amount"], paid.json["currency"]) == (order, 3100, "eur")

    changed = frontend.alice.post(
        "/payments", {"order_token": token, "amount": 1, "payment_method_id": "pm_card_visa"}
    )
    assert (changed.status, changed.code) == (422, "order_token_mismatch")
    borrowed = frontend.bob.post("/payments", {"order_token": token, "payment_method_id": "pm_card_visa"})
    assert (borrowed.status, borrowed.code) == (422, "order_token_customer_mismatch")
    missing = frontend.alice.post("/payments", {"payment_method_id": "pm_card_visa"})
    assert (missing.status, missing.code) == (400, "order_token_required")

    service = ApiClient(
        frontend.state.api_url, issue_token(frontend.state.jwt_secret, "svc-e2e", service=True)
    )
    for_bob = {"order_id": f"{order}-b", "amount": 900, "currency": "usd", "customer_id": "bob"}
    charged = service.post("/payments", {**for_bob, "payment_method_id": "pm_card_visa"})
    assert charged.status == 201, charged.body
    assert charged.json["customer_id"] == "bob"
    on_alices = service.post("/payments", {**for_bob, "order_id": order, "payment_method_id": "pm_card_visa"})
    assert (on_alices.status, on_alices.code) == (409, "order_customer_mismatch")
