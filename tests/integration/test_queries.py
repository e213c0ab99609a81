"""GetPayment, ListPayments and history: ownership, cursors, limits."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from payments.adapters.dynamodb.shards import STATUS_SHARDS, shard_of
from tests.support.api import ApiResponse, call


def make_payment(sub: str = "cus_alice", **overrides) -> dict:
    body = {
        "order_id": f"o-{uuid.uuid4().hex[:10]}",
        "amount": 1000,
        "currency": "eur",
        "payment_method_id": "pm_card_visa",
    }
    body.update(overrides)
    response = call("POST", "/payments", body=body, sub=sub)
    assert response.status == 201, response.body
    return response.body


def test_another_customers_payment_is_not_found(aws, emulator):
    payment = make_payment()
    for path in (f"/payments/{payment['id']}", f"/payments/{payment['id']}/events"):
        response = call("GET", path, sub="cus_bob")
        assert response.status == 404
        assert response.body["code"] == "not_found"
        # Same answer as for a payment that does not exist at all.
        assert (
            call("GET", path.replace(payment["id"], "pay_missing"), sub="cus_bob").body["code"] == "not_found"
        )
    assert call("GET", f"/payments/{payment['id']}", sub="admin", admin=True).status == 200


def test_list_pages_through_own_payments_newest_first(aws, emulator):
    mine = [make_payment()["id"] for _ in range(5)]
    make_payment(sub="cus_bob")
    seen: list[str] = []
    cursor = None
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = call("GET", "/payments", query=query)
        assert page.status == 200, page.body
        assert len(page.body["data"]) <= 2
        seen.extend(p["id"] for p in page.body["data"])
        cursor = page.body["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(mine))


def test_cursor_is_bound_to_caller_and_query(aws, emulator):
    for _ in range(3):
        make_payment()
    make_payment(sub="cus_bob")
    cursor = call("GET", "/payments", query="limit=1").body["next_cursor"]
    assert cursor
    foreign = call("GET", "/payments", query=f"limit=1&cursor={cursor}", sub="cus_bob")
    assert foreign.status == 400
    assert foreign.body["code"] == "invalid_cursor"
    other_query = call("GET", "/payments", query=f"limit=2&cursor={cursor}")
    assert other_query.status == 400
    forged = call("GET", "/payments", query="limit=1&cursor=eyJwayI6IlgifQ.AAAA")
    assert forged.status == 400


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "status=bogus"])
def test_bad_list_parameters(aws, emulator, query):
    response = call("GET", "/payments", query=query)
    assert response.status == 400
    assert response.body["code"] == "validation_error"


def test_customer_cannot_list_another_customer(aws, emulator):
    make_payment(sub="cus_bob")
    response = call("GET", "/payments", query="customer_id=cus_bob")
    assert response.status == 404


def test_admin_lists_by_customer_or_status(aws, emulator):
    make_payment()
    make_payment(sub="cus_bob")
    by_customer = call("GET", "/payments", query="customer_id=cus_bob", sub="admin", admin=True)
    assert [p["customer_id"] for p in by_customer.body["data"]] == ["cus_bob"]
    by_status = call("GET", "/payments", query="status=succeeded", sub="admin", admin=True)
    assert {p["customer_id"] for p in by_status.body["data"]} == {"cus_alice", "cus_bob"}
    unfiltered = call("GET", "/payments", sub="admin", admin=True)
    assert unfiltered.status == 400


def _pages(query: str, **who) -> list[dict]:
    """Every page of a listing, followed through its cursors."""
    seen: list[dict] = []
    cursor = None
    while True:
        page = call("GET", "/payments", query=query + (f"&cursor={cursor}" if cursor else ""), **who)
        assert page.status == 200, page.body
        seen.extend(page.body["data"])
        cursor = page.body["next_cursor"]
        if not cursor:
            return seen


def test_admin_pages_through_a_status_over_its_shards_newest_first(aws, emulator):
    # A status's payments are spread over STATUS_SHARDS index keys; the listing merges them.
    paid = [make_payment(sub=f"cus_{n}")["id"] for n in range(9)]
    held = make_payment(capture="manual")["id"]
    assert len({shard_of(payment_id, STATUS_SHARDS) for payment_id in paid}) > 1
    listed = _pages("status=succeeded&limit=2", sub="admin", admin=True)
    assert sorted(p["id"] for p in listed) == sorted(paid)  # each once, across page and shard bounds
    newest_first = sorted(listed, key=lambda p: (p["created_at"], p["id"]), reverse=True)
    assert [p["id"] for p in listed] == [p["id"] for p in newest_first]
    assert [p["id"] for p in _pages("status=requires_capture", sub="admin", admin=True)] == [held]


def test_a_status_cursor_is_refused_for_another_status(aws, emulator):
    for n in range(3):
        make_payment(sub=f"cus_{n}")
    first = call("GET", "/payments", query="status=succeeded&limit=1", sub="admin", admin=True)
    cursor = first.body["next_cursor"]
    assert cursor
    other = call("GET", "/payments", query=f"status=failed&limit=1&cursor={cursor}", sub="admin", admin=True)
    assert other.status == 400
    assert other.body["code"] == "invalid_cursor"


def test_unauthenticated_request_is_401(aws, emulator):
    response = call("GET", "/payments", sub=None)
    assert response.status == 401


# --------------------------------------------------------------------------- an order's payment (admins)


def _by_order(order_id: str, extra: str = "", **who: Any) -> ApiResponse:
    """GET /payments?order_id=..., by an admin unless `who` says otherwise."""
    return call(
        "GET", "/payments", query=f"order_id={order_id}{extra}", **(who or {"sub": "admin", "admin": True})
    )


def test_admin_finds_an_orders_payment(aws, emulator):
    paid = make_payment(order_id="order-find-1")
    make_payment(order_id="order-find-2")
    found = _by_order("order-find-1")
    assert found.status == 200, found.body
    assert [p["id"] for p in found.body["data"]] == [paid["id"]]
    assert found.body["data"][0]["order_id"] == "order-find-1"
    assert found.body["data"][0]["status"] == "succeeded"
    assert found.body["next_cursor"] is None


def test_an_orders_payment_is_its_current_one_after_a_retry(aws, emulator):
    declined = call(
        "POST",
        "/payments",
        body={
            "order_id": "order-retried",
            "amount": 1000,
            "currency": "eur",
            "payment_method_id": "pm_card_chargeDeclined",
        },
    )
    assert declined.status == 402, declined.body
    # Declined: the claim is released and still names that payment.
    (failed,) = _by_order("order-retried").body["data"]
    assert (failed["id"], failed["status"]) == (declined.body["payment_id"], "failed")
    retried = make_payment(order_id="order-retried")
    # The retry took the claim: the failed attempt is no longer found by the order.
    assert [p["id"] for p in _by_order("order-retried").body["data"]] == [retried["id"]]


def test_an_order_no_payment_claimed_is_an_empty_list(aws, emulator):
    make_payment(order_id="order-paid")
    response = _by_order("order-never-paid")
    assert response.status == 200, response.body
    assert response.body == {"data": [], "next_cursor": None}


@pytest.mark.parametrize("who", [{"sub": "cus_alice"}, {"sub": "svc_orders", "service": True}])
def test_only_admins_find_payments_by_order(aws, emulator, who):
    make_payment(order_id="order-own")
    for order_id in ("order-own", "order-never-paid"):
        # Refused alike for the caller's own order and for one nobody paid: nothing is told.
        response = _by_order(order_id, **who)
        assert response.status == 403, response.body
        assert response.body["code"] == "forbidden"


@pytest.mark.parametrize(
    "order_id",
    ["", "a" * 65, "order%201", "order%2F1", "ord%C3%A9r", "order.1"],
    ids=["empty", "too-long", "space", "slash", "non-ascii", "dot"],
)
def test_a_bad_order_id_is_a_400(aws, emulator, order_id):
    response = _by_order(order_id)
    assert response.status == 400, response.body
    assert response.body["code"] == "validation_error"
    assert [e["field"] for e in response.body["errors"]] == ["query.order_id"]


def test_order_id_is_the_longest_an_order_id_may_be(aws, emulator):
    longest = "o" * 64
    paid = make_payment(order_id=longest)
    assert [p["id"] for p in _by_order(longest).body["data"]] == [paid["id"]]


@pytest.mark.parametrize(
    ("extra", "fields"),
    [
        ("&customer_id=cus_alice", ["customer_id"]),
        ("&status=succeeded", ["status"]),
        ("&customer_id=cus_alice&status=succeeded", ["customer_id", "status"]),
    ],
)
def test_order_id_takes_no_other_filter(aws, emulator, extra, fields):
    make_payment(order_id="order-combined")
    response = _by_order("order-combined", extra)
    assert response.status == 400, response.body
    assert response.body["code"] == "validation_error"
    assert [e["field"] for e in response.body["errors"]] == fields


def test_no_cursor_continues_an_orders_lookup(aws, emulator):
    for _ in range(2):
        make_payment(sub="cus_carol")
    cursor = call("GET", "/payments", query="customer_id=cus_carol&limit=1", sub="admin", admin=True).body[
        "next_cursor"
    ]
    assert cursor
    response = _by_order("order-any", f"&cursor={cursor}")
    assert response.status == 400
    assert response.body["code"] == "invalid_cursor"
