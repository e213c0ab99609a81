"""Finding objects by our own ids: the PaymentIntent Search API (with its lag) and refund lists."""

from __future__ import annotations

import time
from typing import Any, cast

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

from .conftest import control, make_client, pay, raw_request


def _search(client: stripe.StripeClient, query: str, **params: Any) -> stripe.SearchResultObject[Any]:
    return client.v1.payment_intents.search(
        params=cast("stripe.params.PaymentIntentSearchParams", {"query": query, **params})
    )


def _ids(result: stripe.SearchResultObject[Any]) -> list[str]:
    return [intent.id for intent in result.data]


@pytest.fixture
def intents(client: stripe.StripeClient) -> dict[str, str]:
    """Four PaymentIntents by name, created oldest first."""
    paid = pay(client, metadata={"payment_id": "pay_1", "order": "o-1"})
    other = pay(client, metadata={"payment_id": "pay_2", "order": "o-1"}, amount=5000, currency="eur")
    pending = client.v1.payment_intents.create(
        params={"amount": 700, "currency": "usd", "metadata": {"payment_id": "pay_3"}}
    )
    bare = pay(client)
    return {"paid": paid.id, "other": other.id, "pending": pending.id, "bare": bare.id}


def test_search_by_our_payment_id(client: stripe.StripeClient, intents: dict[str, str]) -> None:
    result = _search(client, "metadata['payment_id']:'pay_1'")

    assert isinstance(result, stripe.SearchResultObject)
    assert _ids(result) == [intents["paid"]]
    assert isinstance(result.data[0], stripe.PaymentIntent)
    assert result.has_more is False
    assert result.next_page is None
    assert result.url == "/v1/payment_intents/search"
    assert result.to_dict()["object"] == "search_result"
    assert "total_count" not in result.to_dict()  # only when expanded


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("metadata['order']:'o-1' AND status:'succeeded'", ["other", "paid"]),
        ('metadata["order"]:"o-1" status:"succeeded" currency:"usd"', ["paid"]),  # space means AND
        ("metadata['payment_id']:'pay_1' OR metadata['payment_id']:'pay_3'", ["pending", "paid"]),
        ("status:'requires_payment_method'", ["pending"]),
        ("-metadata['payment_id']:null", ["pending", "other", "paid"]),
        ("metadata['payment_id']:null", ["bare"]),
        ("-status:'succeeded'", ["pending"]),
        ("amount>2000", ["other"]),
        ("amount<=2000 and currency:'usd' and status:'succeeded'", ["bare", "paid"]),
        ("amount:700", ["pending"]),
        ("metadata['payment_id']:'PAY_1'", []),  # tokens are case-sensitive
        ("metadata['payment_id']:'pay_'", []),  # and match whole values only
    ],
)
def test_query_language(
    client: stripe.StripeClient, intents: dict[str, str], query: str, expected: list[str]
) -> None:
    assert _ids(_search(client, query)) == [intents[name] for name in expected]


def test_pages_and_auto_paging(client: stripe.StripeClient, intents: dict[str, str]) -> None:
    query = "status:'succeeded'"

    first = _search(client, query, limit=2, expand=["total_count"])
    second = _search(client, query, limit=2, page=first.next_page)
    walked = [intent.id for intent in _search(client, query, limit=1).auto_paging_iter()]

    newest_first = [intents["bare"], intents["other"], intents["paid"]]
    assert (_ids(first), first.has_more) == (newest_first[:2], True)
    assert first.to_dict()["total_count"] == 3
    assert (_ids(second), second.has_more) == (newest_first[2:], False)
    assert second.to_dict()["next_page"] is None
    assert walked == newest_first


def test_expand_inside_search_results(client: stripe.StripeClient, intents: dict[str, str]) -> None:
    result = _search(client, "metadata['payment_id']:'pay_1'", expand=["data.latest_charge"])

    assert isinstance(result.data[0].latest_charge, stripe.Charge)


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("email:'a@example.com'", "unsupported search field"),
        ("status:succeeded", "quoted"),
        ("status:'a' AND status:'b' OR status:'c'", "AND and OR"),
        ("metadata:'x'", "metadata needs a key"),
        ("status~'succ'", "does not support"),
        ("amount>'ten'", "integer"),
        ("status:'unterminated", "unterminated"),
        (" AND ".join(f"amount>{n}" for n in range(11)), "at most 10"),
    ],
)
def test_invalid_queries_are_400s_naming_query(
    client: stripe.StripeClient, query: str, fragment: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        _search(client, query)

    assert (raised.value.http_status, raised.value.param) == (400, "query")
    assert fragment in str(raised.value.user_message)


def test_a_page_only_works_with_its_query(client: stripe.StripeClient, intents: dict[str, str]) -> None:
    first = _search(client, "status:'succeeded'", limit=1)

    with pytest.raises(stripe.InvalidRequestError) as other_query:
        _search(client, "amount>1", page=first.next_page)
    with pytest.raises(stripe.InvalidRequestError) as garbage:
        _search(client, "amount>1", page="not-a-page")

    assert (other_query.value.param, garbage.value.param) == ("page", "page")


def test_the_query_is_required(emu: StripeEmulator) -> None:
    response = raw_request(emu.url, "GET", "/v1/payment_intents/search")

    assert (response.status, response.json()["error"]["param"]) == (400, "query")


def test_a_lagging_index_misses_new_objects_until_it_catches_up(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    old = pay(client, metadata={"payment_id": "pay_old"})
    settings = control(emu, "settings", {"search_lag": 3600})
    new = pay(client, metadata={"payment_id": "pay_new"})

    missed = _search(client, "metadata['payment_id']:'pay_new'")
    found_old = _search(client, "metadata['payment_id']:'pay_old'")
    listed = client.v1.payment_intents.list()  # lists are never stale
    indexed = control(emu, "search/index")
    caught_up = _search(client, "metadata['payment_id']:'pay_new'")

    assert settings.json()["search_lag"] == 3600
    assert _ids(missed) == []
    assert _ids(found_old) == [old.id]  # what existed when the lag was set stays searchable
    assert [intent.id for intent in listed.data] == [new.id, old.id]
    assert indexed.status == 200
    assert _ids(caught_up) == [new.id]


def test_a_lagging_index_matches_the_old_version_of_a_changed_object(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    intent = pay(client, metadata={"payment_id": "pay_1"})
    emu.update_settings(search_lag=3600)
    client.v1.payment_intents.update(intent.id, params={"metadata": {"payment_id": "pay_renamed"}})

    by_new = _search(client, "metadata['payment_id']:'pay_renamed'")
    by_old = _search(client, "metadata['payment_id']:'pay_1'")
    emu.index_search()

    assert _ids(by_new) == []
    assert _ids(by_old) == [intent.id]
    assert by_old.data[0].metadata is not None
    assert by_old.data[0].metadata["payment_id"] == "pay_renamed"  # the object itself is current
    assert _ids(_search(client, "metadata['payment_id']:'pay_renamed'")) == [intent.id]
    assert _ids(_search(client, "metadata['payment_id']:'pay_1'")) == []


def test_a_short_lag_passes(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    emu.update_settings(search_lag=3600)
    intent = pay(client, metadata={"payment_id": "pay_soon"})
    assert _ids(_search(client, "metadata['payment_id']:'pay_soon'")) == []

    emu.update_settings(search_lag=0.05)
    deadline = time.monotonic() + 10
    while not (found := _ids(_search(client, "metadata['payment_id']:'pay_soon'"))):
        assert time.monotonic() < deadline, "the object never became searchable"
        time.sleep(0.02)

    assert found == [intent.id]


def test_search_lag_as_a_constructor_argument() -> None:
    with StripeEmulator(search_lag=3600) as emulator:
        client = make_client(emulator)
        pay(client, metadata={"payment_id": "pay_1"})

        assert _ids(_search(client, "metadata['payment_id']:'pay_1'")) == []
        assert emulator.settings()["search_lag"] == 3600


def test_a_negative_search_lag_is_rejected(emu: StripeEmulator) -> None:
    assert control(emu, "settings", {"search_lag": -1}).status == 400
    assert control(emu, "settings", {"search_lag": "1"}).status == 400
    assert control(emu, "settings", {"nonsense": True}).status == 400


def test_refunds_are_listed_by_payment_intent_and_by_charge(client: stripe.StripeClient) -> None:
    mine, theirs = pay(client, amount=5000), pay(client, amount=5000)
    refunds = [
        client.v1.refunds.create(params={"payment_intent": mine.id, "amount": amount}).id
        for amount in (100, 200, 300, 400)
    ]
    client.v1.refunds.create(params={"payment_intent": theirs.id, "amount": 100})

    by_intent = client.v1.refunds.list(params={"payment_intent": mine.id, "limit": 3})
    walked = [refund.id for refund in by_intent.auto_paging_iter()]
    by_charge = [
        refund.id
        for refund in client.v1.refunds.list(
            params={"charge": str(mine.latest_charge), "limit": 2}
        ).auto_paging_iter()
    ]
    none = client.v1.refunds.list(params={"payment_intent": "pi_unknown"})

    assert (len(by_intent.data), by_intent.has_more) == (3, True)
    assert walked == by_charge == refunds[::-1]  # newest first, all pages
    assert none.data == []
