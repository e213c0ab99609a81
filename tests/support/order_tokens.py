"""Order tokens for tests: what the Order Service would sign for an order, with the local stack's key
(infra/local/tokens.py), so the API takes the payment's terms from them as it does from the real ones."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from infra.local.tokens import issue_order_token

TTL_SECONDS = 24 * 3600
_MINTED: dict[str, tuple[str, int, int]] = {}  # order's terms -> token, issued at, expires at
_LOCK = threading.Lock()


def order_token(order_id: Any, amount: Any, currency: Any, sub: str) -> str:
    """The order's token. The same terms get the same token while it is valid (for an hour more at
    least), so a request sent again is the same request: its Idempotency-Key replays, never "reused"."""
    terms = json.dumps([order_id, amount, currency, sub])
    with _LOCK:
        now = int(time.time())  # the test's clock, which `make test-future` moves a year ahead
        minted = _MINTED.get(terms)
        if minted and minted[1] <= now < minted[2] - 3600:
            return minted[0]
        token = issue_order_token(order_id, amount, currency, sub, ttl_seconds=TTL_SECONDS, now=now)
        _MINTED[terms] = (token, now, now + TTL_SECONDS)
        return token


def with_order_token(body: Any, sub: str) -> Any:
    """A customer's payment body with the token of the order it states (order_id, amount, currency),
    unless it has a token already or does not state a whole order; the body keeps its own fields."""
    if not isinstance(body, dict) or "order_token" in body:
        return body
    if not all(name in body for name in ("order_id", "amount", "currency")):
        return body
    return {**body, "order_token": order_token(body["order_id"], body["amount"], body["currency"], sub)}
