"""The blocklist through the real handlers on moto: add, list (by kind, paged), remove, each change with
its audit record and event; every value in the wrong form for its kind, and the other refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from payments.domain.events import DETAIL_MODELS
from tests.integration.risk.conftest import ADMIN, admin, block, items, risk_events
from tests.support.api import call

FINGERPRINT = "Xt5EWLLDS7FJjR1c"


def in_hours(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat(timespec="seconds")


def listed(query: str = "") -> list[dict[str, Any]]:
    response = admin("GET", "/risk/blocklist", query=query)
    assert response.status == 200, response.body
    return list(response.body["data"])


def test_an_entry_is_stored_audited_announced_and_listed(aws, bus):
    response = block("card_fingerprint", FINGERPRINT, expires_at=in_hours(48))

    assert response.status == 201, response.body
    entry = response.body
    assert entry["entry_id"].startswith("blk_")
    assert (entry["kind"], entry["value"], entry["reason"], entry["author"]) == (
        "card_fingerprint",
        FINGERPRINT,
        "fraud ring",
        ADMIN,
    )
    assert entry["created_at"].endswith("Z")
    assert entry["expires_at"].endswith(".000Z")
    assert listed() == [entry]
    [audit] = admin("GET", "/risk/audit").body["data"]
    assert {k: audit[k] for k in ("action", "subject", "author", "before", "after")} == {
        "action": "blocklist_entry_added",
        "subject": entry["entry_id"],
        "author": ADMIN,
        "before": None,
        "after": entry,
    }
    [event] = [e["detail"] for e in bus.drain() if e["source"] == "payments"]
    DETAIL_MODELS["BlocklistEntryAdded"].model_validate(event)
    assert (event["event_type"], event["event_id"]) == ("BlocklistEntryAdded", f"{entry['entry_id']}:v1")
    assert event["data"] == {"entry": entry, "changed_by": ADMIN}
    # The TTL attribute: DynamoDB deletes the entry some time after it expired.
    [stored] = items("BLOCK#")
    assert stored["pk"]["S"] == f"BLOCK#card_fingerprint#{FINGERPRINT}"
    expires = datetime.fromisoformat(entry["expires_at"].replace("Z", "+00:00"))
    assert int(stored["expiration"]["N"]) == int(expires.timestamp())


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("card_fingerprint", FINGERPRINT),
        ("card_bin", "424242"),
        ("card_bin", "42424242"),
        ("issuing_country", "NG"),
        ("customer", "cus_alice"),
        ("customer", "3f2b8a4e-7c1d-4e5f-9a0b-1c2d3e4f5a6b"),  # a Cognito sub
    ],
)
def test_every_kind_takes_its_own_form(aws, kind, value):
    response = block(kind, value)
    assert response.status == 201, response.body
    assert listed(f"kind={kind}") == [response.body]


BAD_VALUES = [
    ("card_fingerprint", "Xt5EWLLDS7FJjR1"),  # 15
    ("card_fingerprint", "Xt5EWLLDS7FJjR1cc"),  # 17
    ("card_fingerprint", "Xt5EWLLDS7FJjR1-"),
    ("card_fingerprint", ""),
    ("card_bin", "42424"),
    ("card_bin", "4242424"),
    ("card_bin", "424242424"),
    ("card_bin", "42424a"),
    ("card_bin", "4242 4242"),
    ("card_bin", "٤٢٤٢٤٢"),  # Arabic-Indic digits are not a BIN
    ("issuing_country", "ng"),
    ("issuing_country", "NGA"),
    ("issuing_country", "N1"),
    ("customer", ""),
    ("customer", "cus alice"),
    ("customer", "cus_\nalice"),
    ("customer", "c" * 129),
]


@pytest.mark.parametrize(("kind", "value"), BAD_VALUES, ids=[f"{k}={v!r}"[:40] for k, v in BAD_VALUES])
def test_a_value_in_the_wrong_form_for_its_kind_is_refused(aws, bus, kind, value):
    response = block(kind, value)

    assert (response.status, response.body["code"]) == (400, "validation_error"), response.body
    assert [error["field"] for error in response.body["errors"]] == ["value"]
    assert items() == []
    assert risk_events(bus) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "card_number", "value": "424242", "reason": "x"}, "kind"),
        ({"kind": "card_bin", "value": "424242", "reason": ""}, "reason"),
        ({"kind": "card_bin", "value": "424242"}, "reason"),
        ({"kind": "card_bin", "value": "424242", "reason": "x", "author": "someone-else"}, "author"),
        ({"kind": "card_bin", "value": "424242", "reason": "x", "entry_id": "blk_mine"}, "entry_id"),
        ({"kind": "card_bin", "value": "424242", "reason": "x", "expires_at": "tomorrow"}, "expires_at"),
        (
            {"kind": "card_bin", "value": "424242", "reason": "x", "expires_at": "2030-01-01T00:00:00"},
            "expires_at",
        ),
        ({"kind": "card_bin", "value": 424242, "reason": "x"}, "value"),
        (
            {"kind": "card_bin", "value": "424242", "reason": "x", "expires_at": "0001-01-01T00:00:00+01:00"},
            "expires_at",
        ),
        ({"kind": "card_bin", "value": "424242", "reason": "x", "expires_at": "2030-01-01"}, "expires_at"),
    ],
)
def test_other_bad_requests_are_refused_with_their_field(aws, body, field):
    response = admin("POST", "/risk/blocklist", body=body)
    assert (response.status, response.body["code"]) == (400, "validation_error"), response.body
    assert field in [error["field"] for error in response.body["errors"]]
    assert items() == []


def test_an_expiry_in_the_past_is_refused(aws):
    response = block("card_bin", "424242", expires_at=in_hours(-1))
    assert (response.status, response.body["code"], response.body["param"]) == (
        400,
        "validation_error",
        "expires_at",
    )
    assert items() == []


def test_one_entry_per_kind_and_value_in_force(aws, bus):
    first = block("card_bin", "424242")
    again = block("card_bin", "424242")

    assert (again.status, again.body["code"], again.body["entry_id"]) == (
        409,
        "blocklist_entry_exists",
        first.body["entry_id"],
    )
    assert len(listed()) == 1
    assert len(items("AUDIT")) == 1
    assert block("card_bin", "42424242").status == 201  # another value


def test_an_expired_entry_gives_way_before_ttl_deletes_it(aws):
    import time_machine

    first = block("issuing_country", "RU", expires_at=in_hours(1))
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=2), tick=False):
        assert listed() == []  # expired: not in force, though still stored
        assert len(items("BLOCK#")) == 1
        second = block("issuing_country", "RU")
        assert second.status == 201, second.body
        assert listed() == [second.body]
        # The old id names nothing in force any more; removing it leaves the new entry alone.
        gone = admin("DELETE", f"/risk/blocklist/{first.body['entry_id']}")
        assert (gone.status, gone.body["code"]) == (404, "not_found")
        assert listed() == [second.body]


def test_removal_is_audited_announced_and_final(aws, bus):
    entry = block("customer", "cus_mallory").body

    removed = admin("DELETE", f"/risk/blocklist/{entry['entry_id']}", idempotency_key="rm-1")

    assert (removed.status, removed.raw_body) == (204, None)
    assert listed() == []
    assert items("BLOCK#") == []
    latest = admin("GET", "/risk/audit").body["data"][0]
    assert {k: latest[k] for k in ("action", "subject", "author", "before", "after")} == {
        "action": "blocklist_entry_removed",
        "subject": entry["entry_id"],
        "author": ADMIN,
        "before": entry,
        "after": None,
    }
    replay = admin("DELETE", f"/risk/blocklist/{entry['entry_id']}", idempotency_key="rm-1")
    assert (replay.status, replay.header("Idempotent-Replayed")) == (204, "true")
    again = admin("DELETE", f"/risk/blocklist/{entry['entry_id']}", idempotency_key=None)
    assert (again.status, again.body["code"]) == (404, "not_found")
    unknown = admin("DELETE", "/risk/blocklist/blk_doesnotexist")
    assert (unknown.status, unknown.body["code"]) == (404, "not_found")
    assert len(items("AUDIT")) == 2
    published = risk_events(bus)
    removal = ("BlocklistEntryRemoved", f"{entry['entry_id']}:v2")
    assert published[:2] == [("BlocklistEntryAdded", f"{entry['entry_id']}:v1"), removal]
    assert set(published[2:]) <= {removal}  # asked for again, the removal is announced again (same id)
    assert block("customer", "cus_mallory").status == 201  # may be blocked again


def test_a_malformed_entry_id_is_refused(aws):
    response = admin("DELETE", "/risk/blocklist/not-an-id")
    assert (response.status, response.body["code"]) == (400, "validation_error")


def test_a_failed_publish_fails_the_request_and_its_retries_announce_what_was_stored(aws, bus):
    from payments.adapters import aws as aws_clients

    events = aws_clients.client("events")

    def outage(**kwargs: Any) -> None:
        raise RuntimeError("injected PutEvents outage")

    events.meta.events.register("before-call.events.PutEvents", outage, unique_id="outage")
    failed = block("card_bin", "411111", idempotency_key="add-1")
    assert (failed.status, failed.body["code"]) == (503, "events_unavailable")
    [entry_id] = [e["entry_id"] for e in listed()]
    failed_removal = admin("DELETE", f"/risk/blocklist/{entry_id}", idempotency_key="rm-1")
    assert failed_removal.status == 503
    events.meta.events.unregister("before-call.events.PutEvents", unique_id="outage")

    added = block("card_bin", "411111", idempotency_key="add-1")
    removed = admin("DELETE", f"/risk/blocklist/{entry_id}", idempotency_key="rm-1")

    assert (added.status, added.body["entry_id"], removed.status) == (201, entry_id, 204)
    assert len(items("AUDIT")) == 2
    assert risk_events(bus) == [
        ("BlocklistEntryAdded", f"{entry_id}:v1"),
        ("BlocklistEntryRemoved", f"{entry_id}:v2"),
    ]


def test_the_list_filters_by_kind_and_pages_with_a_bound_cursor(aws):
    bins = [block("card_bin", f"4{n:05d}").body for n in range(5)]
    country = block("issuing_country", "KP").body

    first = admin("GET", "/risk/blocklist", query="kind=card_bin&limit=2")
    assert first.status == 200
    pages = [first.body["data"]]
    cursor = first.body["next_cursor"]
    while cursor:
        page = admin("GET", "/risk/blocklist", query=f"kind=card_bin&limit=2&cursor={cursor}")
        pages.append(page.body["data"])
        cursor = page.body["next_cursor"]
    assert [e for page in pages for e in page] == list(reversed(bins))  # newest first
    assert listed("kind=issuing_country") == [country]
    assert {e["entry_id"] for e in listed()} == {e["entry_id"] for e in [*bins, country]}

    other_query = admin(
        "GET", "/risk/blocklist", query=f"kind=customer&limit=2&cursor={first.body['next_cursor']}"
    )
    assert (other_query.status, other_query.body["code"]) == (400, "invalid_cursor")
    bad_kind = admin("GET", "/risk/blocklist", query="kind=card")
    assert (bad_kind.status, bad_kind.body["code"]) == (400, "validation_error")


def test_audit_pages_newest_first(aws):
    for n in range(3):
        block("card_bin", f"5{n:05d}")
    first = admin("GET", "/risk/audit", query="limit=2")
    second = admin("GET", "/risk/audit", query=f"limit=2&cursor={first.body['next_cursor']}")
    values = [r["after"]["value"] for r in [*first.body["data"], *second.body["data"]]]
    assert values == ["500002", "500001", "500000"]
    assert second.body["next_cursor"] is None


def test_missing_idempotency_key_on_post_is_refused(aws):
    response = block("card_bin", "424242", idempotency_key=None)
    assert (response.status, response.body["code"]) == (400, "idempotency_key_missing")
    assert items() == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/risk/blocklist", None),
        ("POST", "/risk/blocklist", {"kind": "customer", "value": "cus_bob", "reason": "x"}),
        ("DELETE", "/risk/blocklist/blk_abc", None),
    ],
)
def test_a_customer_is_refused(aws, method, path, body):
    response = call(method, path, body=body)
    assert (response.status, response.body["code"]) == (403, "forbidden")
    assert items() == []
