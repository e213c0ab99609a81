"""Saved payment methods end to end: Stripe customer and attach, dedupe, list/get/delete, events."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

from payments.domain.events import DETAIL_MODELS
from tests.support.api import call

from .conftest import save, saved, sort_keys, table_items


def test_save_creates_the_stripe_customer_once_and_stores_no_card_number(aws, emulator, bus):
    visa = saved("pm_card_visa")
    assert visa["id"].startswith("pm_")
    assert visa["id"] != "pm_card_visa"
    assert visa["card"] | {"fingerprint": None} == {
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": emulator.payment_methods()[0]["card"]["exp_year"],
        "funding": "credit",
        "country": "US",
        "fingerprint": None,
    }
    assert visa["card"]["fingerprint"]
    mastercard = saved("pm_card_mastercard")

    (customer,) = emulator.customers()
    assert customer["metadata"] == {"customer_id": "cus_alice"}
    attached = {pm["id"]: pm["customer"] for pm in emulator.payment_methods()}
    assert attached == {visa["id"]: customer["id"], mastercard["id"]: customer["id"]}
    assert sort_keys() == sorted(
        [
            ("CUSTOMER#cus_alice", "STRIPE"),
            ("CUSTOMER#cus_alice", f"PM#{visa['id']}"),
            ("CUSTOMER#cus_alice", f"PM#{mastercard['id']}"),
            ("CUSTOMER#cus_alice", f"CARD#{visa['card']['fingerprint']}#{visa['card']['exp_year']}-12"),
            (
                "CUSTOMER#cus_alice",
                f"CARD#{mastercard['card']['fingerprint']}#{mastercard['card']['exp_year']}-12",
            ),
            (f"PM#{visa['id']}", "OWNER"),
            (f"PM#{mastercard['id']}", "OWNER"),
        ]
    )
    assert "4242424242424242" not in json.dumps(table_items())

    events = [e for e in bus.drain() if e["source"] == "payments"]
    assert [e["detail-type"] for e in events] == ["PaymentMethodSaved", "PaymentMethodSaved"]
    detail = events[0]["detail"]
    assert (detail["customer_id"], detail["payment_id"], detail["order_id"]) == ("cus_alice", None, None)
    assert detail["event_id"] == f"{visa['id']}:v1"
    assert detail["data"]["payment_method_id"] == visa["id"]
    assert detail["data"]["last4"] == "4242"
    # What subscribers are promised (events/schemas).
    for event in events:
        DETAIL_MODELS[event["detail-type"]].model_validate(event["detail"])


def test_saving_the_same_card_again_returns_the_saved_method(aws, emulator, bus):
    first = saved("pm_card_visa")
    replay = save("pm_card_visa", idempotency_key="s-1")
    assert replay.status == 200
    assert save("pm_card_visa", idempotency_key="s-1").header("Idempotent-Replayed") == "true"
    again = save("pm_card_visa")
    assert again.status == 200
    assert again.body == first
    listed = call("GET", "/payment-methods").body["data"]
    assert [m["id"] for m in listed] == [first["id"]]
    # Saving a method that is saved already, by its own id, is the same answer.
    assert save(first["id"]).body == first
    assert [pm["customer"] is not None for pm in emulator.payment_methods()].count(True) == 1
    # Another card is another method.
    assert save("pm_card_visa_debit").status == 201


def test_concurrent_saves_of_one_card_make_one_method(aws, emulator):
    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(lambda _: save("pm_card_amex"), range(5)))
    assert sorted(r.status for r in responses) == [200, 200, 200, 200, 201], [r.body for r in responses]
    assert len({r.body["id"] for r in responses}) == 1
    assert len(emulator.customers()) == 1
    assert len(call("GET", "/payment-methods").body["data"]) == 1
    # The losers' PaymentMethods were let go in Stripe.
    assert [pm["customer"] is not None for pm in emulator.payment_methods()].count(True) == 1


def test_list_is_the_callers_own_and_pages_with_a_bound_cursor(aws, emulator):
    mine = {saved(pm)["id"] for pm in ("pm_card_visa", "pm_card_mastercard", "pm_card_amex")}
    saved("pm_card_visa", sub="cus_bob")
    seen: list[str] = []
    cursor = None
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = call("GET", "/payment-methods", query=query)
        assert page.status == 200, page.body
        seen.extend(m["id"] for m in page.body["data"])
        cursor = page.body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(mine)

    cursor = call("GET", "/payment-methods", query="limit=1").body["next_cursor"]
    foreign = call("GET", "/payment-methods", query=f"limit=1&cursor={cursor}", sub="cus_bob")
    assert (foreign.status, foreign.body["code"]) == (400, "invalid_cursor")
    assert call("GET", "/payment-methods", query="limit=0").status == 400


def test_get_and_delete(aws, emulator, bus):
    method = saved()
    fetched = call("GET", f"/payment-methods/{method['id']}")
    assert (fetched.status, fetched.body) == (200, method)

    deleted = call("DELETE", f"/payment-methods/{method['id']}", idempotency_key="del-1")
    assert (deleted.status, deleted.raw_body) == (204, None)
    replay = call("DELETE", f"/payment-methods/{method['id']}", idempotency_key="del-1")
    assert (replay.status, replay.header("Idempotent-Replayed")) == (204, "true")
    again = call("DELETE", f"/payment-methods/{method['id']}", idempotency_key="del-2")
    assert (again.status, again.body["code"]) == (404, "not_found")
    without_key = call("DELETE", f"/payment-methods/{method['id']}", idempotency_key=None)
    assert without_key.status == 404

    assert call("GET", f"/payment-methods/{method['id']}").status == 404
    assert emulator.get(method["id"])["customer"] is None  # detached in Stripe
    assert sort_keys() == [("CUSTOMER#cus_alice", "STRIPE")]  # method, card claim and owner gone
    types = [e["detail-type"] for e in bus.drain() if e["source"] == "payments"]
    assert types == ["PaymentMethodSaved", "PaymentMethodDeleted"]
    # The card can be saved again (a new PaymentMethod: a detached one cannot be reused).
    assert save("pm_card_visa").status == 201


def test_delete_without_a_key_is_accepted(aws, emulator):
    method = saved()
    assert call("DELETE", f"/payment-methods/{method['id']}", idempotency_key=None).status == 204


def test_delete_of_a_method_already_detached_in_stripe(aws, emulator):
    import stripe

    method = saved()
    dashboard = stripe.StripeClient("sk_test_dashboard", base_addresses={"api": emulator.url})
    dashboard.v1.payment_methods.detach(method["id"])
    assert call("DELETE", f"/payment-methods/{method['id']}").status == 204
    assert call("GET", f"/payment-methods/{method['id']}").status == 404


def test_paying_with_a_saved_method_charges_through_the_stripe_customer(aws, emulator):
    method = saved()
    body = {"order_id": f"o-{uuid.uuid4().hex[:8]}", "amount": 1_500, "currency": "usd"}
    paid = call("POST", "/payments", body={**body, "payment_method_id": method["id"]})
    assert paid.status == 201, paid.body
    assert paid.body["status"] == "succeeded"
    (customer,) = emulator.customers()
    (intent,) = emulator.payment_intents()
    assert (intent["customer"], intent["payment_method"]) == (customer["id"], method["id"])
    # Saved cards are reusable: a second payment with it works too.
    again = call(
        "POST", "/payments", body={**body, "order_id": "o-second", "payment_method_id": method["id"]}
    )
    assert again.status == 201


def test_customers_never_reach_each_others_methods(aws, emulator):
    bobs = saved("pm_card_visa", sub="cus_bob")
    not_found = call("GET", "/payment-methods/pm_doesnotexist")
    for method, path in (
        ("GET", f"/payment-methods/{bobs['id']}"),
        ("DELETE", f"/payment-methods/{bobs['id']}"),
    ):
        response = call(method, path, sub="cus_alice")
        assert response.status == 404, response.body
        # Exactly what a method that does not exist answers.
        assert response.body == not_found.body | {"detail": response.body["detail"]}
    assert call("GET", "/payment-methods").body["data"] == []
    body = {"order_id": "o-steal", "amount": 1_500, "currency": "usd", "payment_method_id": bobs["id"]}
    paid = call("POST", "/payments", body=body, sub="cus_alice")
    assert (paid.status, paid.body["code"]) == (404, "not_found")
    assert emulator.payment_intents() == []
    # Saving Bob's method as Alice's is refused exactly like a method Stripe does not have.
    stolen = save(bobs["id"], sub="cus_alice")
    unknown = save("pm_doesNotExist", sub="cus_alice")
    assert (stolen.status, stolen.body) == (400, unknown.body)
    assert stolen.body["code"] == "payment_method_invalid"
    # Bob still has it, attached to his Stripe customer.
    assert call("GET", f"/payment-methods/{bobs['id']}", sub="cus_bob").status == 200
    assert emulator.get(bobs["id"])["customer"] is not None


BAD_BODIES = [
    ({"payment_method_id": "pm_doesNotExist"}, "payment_method_invalid"),
    ({"payment_method_id": "card_1234"}, "validation_error"),
    ({"payment_method_id": "4242424242424242"}, "card_data_not_accepted"),
    ({"payment_method_id": "4242 4242 4242 4242"}, "card_data_not_accepted"),
    ({"card_number": "4000056655665556"}, "card_data_not_accepted"),
    ({}, "validation_error"),
    ({"payment_method_id": "pm_card_visa", "extra": 1}, "validation_error"),
]


def test_bad_input(aws, emulator, subtests):
    for body, code in BAD_BODIES:
        with subtests.test(body=body):
            response = call("POST", "/payment-methods", body=body)
            assert (response.status, response.body["code"]) == (400, code), response.body
            assert "4242" not in (response.raw_body or "")
    assert table_items() == []
    assert emulator.customers() == []


def test_missing_idempotency_key(aws, emulator):
    response = save(idempotency_key=None)
    assert (response.status, response.body["code"]) == (400, "idempotency_key_missing")
    assert table_items() == []


def test_a_failed_publish_fails_the_request_and_the_retry_republishes(aws, emulator, bus):
    from payments.adapters import aws as aws_clients

    events = aws_clients.client("events")

    def outage(**kwargs):
        raise RuntimeError("injected PutEvents outage")

    events.meta.events.register("before-call.events.PutEvents", outage, unique_id="outage")
    failed = save(idempotency_key="save-1")
    assert (failed.status, failed.body["code"]) == (503, "events_unavailable")
    assert failed.header("Retry-After")
    method_id = next(i["id"]["S"] for i in table_items() if i["sk"]["S"].startswith("PM#"))
    deleting = call("DELETE", f"/payment-methods/{method_id}", idempotency_key="delete-1")
    assert deleting.status == 503
    assert call("GET", f"/payment-methods/{method_id}").status == 200  # kept until it is announced
    events.meta.events.unregister("before-call.events.PutEvents", unique_id="outage")

    retried = save(idempotency_key="save-1")
    assert (retried.status, retried.body["id"]) == (200, method_id)
    assert call("DELETE", f"/payment-methods/{method_id}", idempotency_key="delete-1").status == 204
    published = [e["detail"] for e in bus.drain() if e["source"] == "payments"]
    assert [(e["event_type"], e["event_id"]) for e in published] == [
        ("PaymentMethodSaved", f"{method_id}:v1"),
        ("PaymentMethodDeleted", f"{method_id}:v2"),
    ]
