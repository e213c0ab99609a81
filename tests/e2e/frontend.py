"""Drive a running local stack over HTTP like a frontend (and like Stripe's cardholder and bank)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local.client import ApiClient, HttpResult, request
from infra.local.launcher import LaunchedStack, launch
from infra.local.ports import free_ports
from infra.local.settings import StackState
from infra.local.tokens import issue_token
from tests.support.order_tokens import with_order_token


def start_stack(folder: Path, **env: str) -> LaunchedStack:
    """`make dev` exactly as a developer runs it, on free ports, with nothing from our own environment."""
    # Ports nobody listens on now, so a developer's own `make dev` never collides with the tests.
    settings = {**free_ports(), "LOCAL_SCHEDULE_SECONDS": "2", **env}
    return launch(folder, folder / "dev.log", settings, inherit=False)


class Customer(ApiClient):
    """A customer's frontend: its POST /payments carries the order token the Order Service gave it for
    the order the body states (tests/support/order_tokens.py), as the API requires of customers."""

    def __init__(self, api_url: str, token: str | None, sub: str) -> None:
        super().__init__(api_url, token)
        self.sub = sub

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> HttpResult:
        if (method, path) == ("POST", "/payments"):
            body = with_order_token(body, self.sub)
        return super().call(method, path, body, **kwargs)


@dataclass
class Frontend:
    stack: LaunchedStack

    @property
    def state(self) -> StackState:
        return self.stack.state

    def client(self, sub: str | None, *, admin: bool = False, secret: str | None = None) -> ApiClient:
        token = issue_token(secret or self.state.jwt_secret, sub, admin=admin) if sub else None
        if sub and not admin:
            return Customer(self.state.api_url, token, sub)
        return ApiClient(self.state.api_url, token)

    @property
    def alice(self) -> ApiClient:
        return self.client("alice")

    @property
    def bob(self) -> ApiClient:
        return self.client("bob")

    @property
    def admin(self) -> ApiClient:
        return self.client("backoffice", admin=True)

    def pay(
        self, card: str = "pm_card_visa", amount: int = 2599, *, key: str | None = None, **extra: Any
    ) -> HttpResult:
        body = {"order_id": f"e2e-{uuid.uuid4().hex[:10]}", "amount": amount, "currency": "usd", **extra}
        body["payment_method_id"] = card
        return self.alice.post("/payments", body, idempotency_key=key)

    def wait_for_payment(
        self, payment_id: str, done: Callable[[dict[str, Any]], bool], timeout_s: float = 10.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        payment: dict[str, Any] = {}
        while time.monotonic() < deadline:
            payment = self.alice.get(f"/payments/{payment_id}").json
            if done(payment):
                return payment
            time.sleep(0.2)
        raise AssertionError(f"payment {payment_id} never got there; last seen: {payment}")

    def wait_for_output(self, *fragments: str, timeout_s: float = 10.0) -> str:
        """The first line of `make dev`'s output holding every fragment."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.stack.output().splitlines():
                if all(fragment in line for fragment in fragments):
                    return line
            time.sleep(0.2)
        raise AssertionError(f"no line with {fragments} in make dev's output:\n{self.stack.output()[-4000:]}")

    def emulator(self, path: str, body: dict[str, Any] | None = None) -> HttpResult:
        assert self.state.stripe_url, "this stack has no Stripe emulator"
        data = json.dumps(body or {}).encode()
        return request("POST", f"{self.state.stripe_url}/_emulator/{path}", body=data)
