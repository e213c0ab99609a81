"""GetPayment, ListPayments and history: ownership, cursors, limits."""

from __future__ import annotations

import uuid

import pytest

from payments.adapters.dynamodb.shards import STATUS_SHARDS, shard_of
from tests.support.api import call


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
