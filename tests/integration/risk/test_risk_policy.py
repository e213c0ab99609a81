"""What the pre-authorization checks read (services.risk_policy()) on moto: the rules, cached for the
setting's time (the clock moved with time-machine, never slept on), and the blocklist, read key by key
in one request, expired entries ignored before TTL deletes them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from payments import services
from payments.application.clock import now
from tests.integration.risk.conftest import admin, block

FINGERPRINT = "Xt5EWLLDS7FJjR1c"


def put_rules(**changes: Any) -> dict[str, Any]:
    rules = {**admin("GET", "/risk/rules").body, **changes}
    response = admin("PUT", "/risk/rules", body=rules)
    assert response.status == 200, response.body
    return dict(response.body)


@pytest.fixture
def dynamodb_calls(aws: Any) -> Iterator[list[str]]:
    """The names of the DynamoDB operations the service's client sends from here on."""
    from payments.adapters import aws as aws_clients

    client = aws_clients.client("dynamodb")
    sent: list[str] = []

    def record(model: Any, **kwargs: Any) -> None:
        sent.append(model.name)

    client.meta.events.register("before-call.dynamodb", record, unique_id="count")
    yield sent
    client.meta.events.unregister("before-call.dynamodb", unique_id="count")


def test_the_defaults_until_rules_are_stored(aws):
    assert services.risk_policy().rules().version == 0


def test_the_rules_are_read_once_per_cache_time_then_again(aws, dynamodb_calls):
    policy = services.risk_policy()
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        assert policy.rules().version == 0
        put_rules(early_fraud_warning="notify")
        dynamodb_calls.clear()

        clock.shift(timedelta(seconds=29.9))
        assert policy.rules().version == 0  # still the cached rules
        assert dynamodb_calls == []

        clock.shift(timedelta(seconds=0.1))  # 30 s, the default RISK_RULES_CACHE_SECONDS
        rules = policy.rules()
        assert (rules.version, rules.early_fraud_warning) == (1, "notify")
        assert dynamodb_calls == ["GetItem"]

        clock.shift(timedelta(seconds=10))
        assert policy.rules().version == 1
        assert dynamodb_calls == ["GetItem"]


def test_a_clock_set_back_reads_the_rules_again(aws):
    policy = services.risk_policy()
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        assert policy.rules().version == 0
        put_rules()
        clock.shift(timedelta(seconds=-5))
        assert policy.rules().version == 1


def test_the_cache_time_is_a_setting(aws, monkeypatch):
    monkeypatch.setenv("RISK_RULES_CACHE_SECONDS", "0")
    services.reset()
    policy = services.risk_policy()
    assert policy.rules().version == 0
    put_rules()
    assert policy.rules().version == 1


def test_blocklisted_answers_the_matching_entries_in_force_in_one_read(aws, dynamodb_calls):
    fingerprint = block("card_fingerprint", FINGERPRINT).body
    bin8 = block("card_bin", "42424242").body
    block("card_bin", "555555")
    block("customer", "cus_alice", expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    dynamodb_calls.clear()

    found = services.risk_policy().blocklisted(
        {
            "card_fingerprint": [FINGERPRINT],
            "card_bin": ["424242", "42424242"],
            "issuing_country": ["US"],
            "customer": ["cus_bob"],
        },
        at=now(),
    )

    assert sorted(e.entry_id for e in found) == sorted([fingerprint["entry_id"], bin8["entry_id"]])
    assert dynamodb_calls == ["TransactGetItems"]  # one read of exactly those keys: no scan, no query


def test_expired_entries_are_ignored_before_ttl_deletes_them(aws):
    expires = datetime.now(UTC) + timedelta(hours=1)
    entry = block("customer", "cus_alice", expires_at=expires.isoformat()).body
    policy = services.risk_policy()
    in_force = policy.blocklisted({"customer": ["cus_alice"]}, at=now())
    assert [e.entry_id for e in in_force] == [entry["entry_id"]]

    at_expiry = expires.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert policy.blocklisted({"customer": ["cus_alice"]}, at=at_expiry) == []
    with time_machine.travel(expires + timedelta(seconds=1), tick=False):
        assert policy.blocklisted({"customer": ["cus_alice"]}, at=now()) == []


def test_values_that_cannot_be_of_their_kind_match_nothing_and_read_nothing(aws, dynamodb_calls):
    policy = services.risk_policy()
    assert policy.blocklisted({"card_bin": ["4242", ""], "issuing_country": ["us"]}, at=now()) == []
    assert policy.blocklisted({}, at=now()) == []
    assert dynamodb_calls == []


def test_the_same_value_twice_is_read_once(aws):
    entry = block("issuing_country", "KP").body
    found = services.risk_policy().blocklisted({"issuing_country": ["KP", "KP"]}, at=now())
    assert [e.entry_id for e in found] == [entry["entry_id"]]
