"""Local only: the sign-in of the console and checkout pages, and the Order Service's token for a sample
order, as two endpoints of the local gateway (outside the stage, like /_local/health).

    POST /_local/sign-in      {"role": "customer" | "admin", "sub": "alice"}
        -> {"access_token", "token_type": "Bearer", "expires_in"}: the local Cognito stand-in's access token
    GET  /_local/orders       -> {"data": [{"item", "description", "amount", "currency"}]}: sample orders
    POST /_local/order-token  {"item": "coffee"}, with the customer's `Authorization: Bearer <token>`
        -> {"order_id", "amount", "currency", "description", "order_token"}: a new order of that item for
           the signed-in customer, signed as the Order Service signs it

Tokens travel only in bodies and the Authorization header, never in a URL. Both POSTs take JSON only:
a cross-site form cannot send that without CORS, which this server never grants. In AWS, Cognito's
hosted UI and the real Order Service take their place.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from infra.local.tokens import (
    DEFAULT_TTL_SECONDS,
    TokenRejected,
    issue_order_token,
    issue_token,
    verify_token,
)
from infra.local.web import Answer
from payments.http.problems import PROBLEM_JSON, problem_body

PATHS = ("/_local/sign-in", "/_local/orders", "/_local/order-token")
ROLES = ("customer", "admin")
SUB = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class SampleOrder:
    item: str
    description: str
    amount: int  # minor units
    currency: str


SAMPLE_ORDERS = (
    SampleOrder("coffee", "Coffee beans, 1 kg", 2599, "usd"),
    SampleOrder("teapot", "Cast-iron teapot", 8900, "usd"),
    SampleOrder("subscription", "Monthly tasting box", 1500, "usd"),
)


def handles(path: str) -> bool:
    return path in PATHS


def _json(status: int, body: Any, content_type: str = "application/json") -> Answer:
    headers = [("Content-Type", content_type), ("Cache-Control", "no-store")]
    return Answer(status, json.dumps(body).encode(), headers)


def _problem(status: int, code: str, detail: str) -> Answer:
    body = problem_body(status, code, detail, detail)
    return _json(status, body, PROBLEM_JSON)


class LocalSignIn:
    def __init__(self, jwt_secret: str) -> None:
        self._jwt_secret = jwt_secret

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if path == "/_local/orders":
            if method != "GET":
                return _problem(405, "method_not_allowed", "Use GET")
            return _json(200, {"data": [vars(order) for order in SAMPLE_ORDERS]})
        if method != "POST":
            return _problem(405, "method_not_allowed", "Use POST")
        if not headers.get("content-type", "").startswith("application/json"):
            return _problem(415, "unsupported_media_type", "Send application/json")
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return _problem(400, "malformed_json", "The body is not JSON")
        if not isinstance(request, dict):
            return _problem(400, "validation_error", "The body must be a JSON object")
        if path == "/_local/sign-in":
            return self._sign_in(request)
        return self._order_token(request, headers.get("authorization"))

    def _sign_in(self, request: dict[str, Any]) -> Answer:
        role, sub = request.get("role"), request.get("sub")
        if role not in ROLES:
            return _problem(400, "validation_error", f"role must be one of {', '.join(ROLES)}")
        if not isinstance(sub, str) or not SUB.fullmatch(sub):
            return _problem(400, "validation_error", "sub must be 1-64 letters, digits, - or _")
        token = issue_token(self._jwt_secret, sub, admin=role == "admin")
        return _json(200, {"access_token": token, "token_type": "Bearer", "expires_in": DEFAULT_TTL_SECONDS})

    def _order_token(self, request: dict[str, Any], authorization: str | None) -> Answer:
        try:
            customer = str(verify_token(self._jwt_secret, authorization)["sub"])
        except TokenRejected as rejected:
            return _problem(401, "unauthorized", str(rejected))
        order = next((o for o in SAMPLE_ORDERS if o.item == request.get("item")), None)
        if order is None:
            items = ", ".join(o.item for o in SAMPLE_ORDERS)
            return _problem(400, "validation_error", f"item must be one of {items}")
        order_id = f"order-{uuid.uuid4().hex[:12]}"  # a new order each time: an order has one live payment
        token = issue_order_token(order_id, order.amount, order.currency, customer)
        return _json(
            200,
            {
                "order_id": order_id,
                "amount": order.amount,
                "currency": order.currency,
                "description": order.description,
                "order_token": token,
            },
        )
