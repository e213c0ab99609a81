"""GetPayment, ListPayments and history: ownership, cursors, limits."""

from __future__ import annotations

import uuid

import pytest

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


def test_unauthenticated_request_is_401(aws, emulator):
    response = call("GET", "/payments", sub=None)
    assert response.status == 401
