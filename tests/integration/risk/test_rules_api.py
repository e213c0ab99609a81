"""GET and PUT /v1/risk/rules through the real handlers on moto: the defaults, versioned replacement
with its audit and event, and every refused input (nothing stored, nothing audited)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from payments.domain.events import DETAIL_MODELS
from payments.domain.risk_rules import RiskRules
from tests.integration.risk.conftest import ADMIN, admin, items, risk_events
from tests.support.api import call


def current() -> dict[str, Any]:
    response = admin("GET", "/risk/rules")
    assert response.status == 200, response.body
    return dict(response.body)


def changed(rules: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `rules` with the field at the dotted `path` set to `value`."""
    result = copy.deepcopy(rules)
    *parents, last = path.split(".")
    target = result
    for part in parents:
        target = target[part]
    target[last] = value
    return result


def test_a_fresh_stack_answers_the_defaults_as_version_0(aws):
    rules = current()
    assert rules == RiskRules().model_dump(mode="json")
    assert rules["version"] == 0
    assert rules["velocity"]["customer"] == {"max_attempts": 20, "max_declines": 5, "window_seconds": 3600}
    assert rules["early_fraud_warning"] == "refund"
    assert rules["external_hook"] is None
    assert items() == []  # the defaults are never stored


def test_put_stores_the_next_version_audits_it_and_announces_it(aws, bus):
    before = current()
    wanted = changed(
        before, "amount_limits", {"usd": {"max_per_payment": 50_000, "max_per_customer_per_day": 90_000}}
    )
    wanted = changed(wanted, "review.review_countries", ["NG", "RU"])
    wanted = changed(
        wanted,
        "external_hook",
        {"function_name": "risk-hook-scorer", "timeout_ms": 800, "on_failure": "block"},
    )

    response = admin("PUT", "/risk/rules", body=wanted)

    assert response.status == 200, response.body
    assert response.body == {**wanted, "version": 1}
    assert current() == response.body
    [audit] = admin("GET", "/risk/audit").body["data"]
    assert audit["action"] == "rules_replaced"
    assert audit["subject"] == "rules"
    assert audit["author"] == ADMIN
    assert audit["before"] == before
    assert audit["after"] == response.body
    assert audit["at"].endswith("Z")
    [event] = [e["detail"] for e in bus.drain() if e["source"] == "payments"]
    assert (event["event_type"], event["event_id"], event["version"]) == (
        "RiskRulesChanged",
        "risk_rules:v1",
        1,
    )
    DETAIL_MODELS["RiskRulesChanged"].model_validate(event)
    assert event["data"] == {"rules": response.body, "previous_version": 0, "changed_by": ADMIN}

    again = admin("PUT", "/risk/rules", body=changed(response.body, "early_fraud_warning", "notify"))
    assert (again.status, again.body["version"], again.body["early_fraud_warning"]) == (200, 2, "notify")
    assert [r["after"]["version"] for r in admin("GET", "/risk/audit").body["data"]] == [2, 1]


def test_a_stale_version_is_a_409_and_changes_nothing(aws, bus):
    first = current()
    assert admin("PUT", "/risk/rules", body=first).status == 200  # someone else's change: now version 1

    stale = admin("PUT", "/risk/rules", body=changed(first, "early_fraud_warning", "notify"))

    assert (stale.status, stale.body["code"], stale.body["current_version"]) == (
        409,
        "rules_version_stale",
        1,
    )
    assert current()["early_fraud_warning"] == "refund"
    assert len(admin("GET", "/risk/audit").body["data"]) == 1
    assert risk_events(bus) == [("RiskRulesChanged", "risk_rules:v1")]
    ahead = admin("PUT", "/risk/rules", body=changed(first, "version", 7))
    assert (ahead.status, ahead.body["code"]) == (409, "rules_version_stale")


def test_the_store_refuses_a_stale_write_that_raced_past_the_read(aws):
    """Two admins read version 1 and both write: the store's condition lets one through."""
    from payments import services
    from payments.domain.errors import Conflict
    from payments.domain.risk_rules import AuditRecord

    assert admin("PUT", "/risk/rules", body=current()).status == 200
    rules = RiskRules(version=1)
    audit = AuditRecord(
        change_id="chg_a", action="rules_replaced", subject="rules", author="a", at="2030-01-01T00:00:00Z"
    )
    services.risk_admin().replace_rules(rules.model_copy(update={"version": 2}), audit)
    with pytest.raises(Conflict) as refused:
        services.risk_admin().replace_rules(
            rules.model_copy(update={"version": 2}), audit.model_copy(update={"change_id": "chg_b"})
        )
    assert refused.value.code == "rules_version_stale"
    assert len(items("AUDIT")) == 2  # the refused write's audit item went with it


def test_a_retry_with_the_same_key_replays_and_changes_nothing_twice(aws, bus):
    body = current()
    first = admin("PUT", "/risk/rules", body=body, idempotency_key="rules-1")
    replay = admin("PUT", "/risk/rules", body=body, idempotency_key="rules-1")
    assert (first.status, replay.status) == (200, 200)
    assert replay.header("Idempotent-Replayed") == "true"
    assert replay.body == first.body
    assert current()["version"] == 1
    assert len(items("AUDIT")) == 1
    other = admin(
        "PUT", "/risk/rules", body=changed(body, "early_fraud_warning", "notify"), idempotency_key="rules-1"
    )
    assert (other.status, other.body["code"]) == (422, "idempotency_key_reused")


def test_a_failed_publish_fails_the_request_and_its_retry_announces_the_stored_change(aws, bus):
    from payments.adapters import aws as aws_clients

    events = aws_clients.client("events")

    def outage(**kwargs: Any) -> None:
        raise RuntimeError("injected PutEvents outage")

    events.meta.events.register("before-call.events.PutEvents", outage, unique_id="outage")
    body = current()
    failed = admin("PUT", "/risk/rules", body=body, idempotency_key="rules-1")
    assert failed.status == 503, failed.body
    assert current()["version"] == 1  # stored with its audit before the publish
    events.meta.events.unregister("before-call.events.PutEvents", unique_id="outage")

    retried = admin("PUT", "/risk/rules", body=body, idempotency_key="rules-1")

    assert (retried.status, retried.body["version"]) == (200, 1)
    assert len(items("AUDIT")) == 1
    assert risk_events(bus) == [("RiskRulesChanged", "risk_rules:v1")]


BAD_RULES = [
    ("velocity.customer.max_attempts", -1, "velocity.customer.max_attempts"),
    ("velocity.card_fingerprint.max_declines", 0, "velocity.card_fingerprint.max_declines"),
    ("velocity.source_ip.window_seconds", 0, "velocity.source_ip.window_seconds"),
    ("velocity.customer.window_seconds", 7 * 24 * 3600 + 1, "velocity.customer.window_seconds"),
    ("velocity.customer.window_seconds", -60, "velocity.customer.window_seconds"),
    ("velocity.customer.max_attempts", "20", "velocity.customer.max_attempts"),  # strict: no coercion
    ("velocity.customer.max_attempts", 2.5, "velocity.customer.max_attempts"),
    ("velocity.customer.max_attempts", True, "velocity.customer.max_attempts"),
    ("velocity.customer.burst", 3, "velocity.customer.burst"),
    ("velocity.device", {"max_attempts": 1, "max_declines": 1, "window_seconds": 60}, "velocity.device"),
    ("card_testing.customer.max_distinct_cards", -3, "card_testing.customer.max_distinct_cards"),
    ("card_testing.source_ip.window_seconds", 0, "card_testing.source_ip.window_seconds"),
    ("card_testing.source_ip.max_declines", 0, "card_testing.source_ip.max_declines"),
    (
        "amount_limits",
        {"usd": {"max_per_payment": -100, "max_per_customer_per_day": 100}},
        "amount_limits.usd.max_per_payment",
    ),
    (
        "amount_limits",
        {"usd": {"max_per_payment": 0, "max_per_customer_per_day": 100}},
        "amount_limits.usd.max_per_payment",
    ),
    (
        "amount_limits",
        {"USD": {"max_per_payment": 100, "max_per_customer_per_day": 100}},
        "amount_limits.USD.[key]",
    ),
    (
        "amount_limits",
        {"xyz": {"max_per_payment": 100, "max_per_customer_per_day": 100}},
        "amount_limits.xyz.[key]",
    ),
    (
        "amount_limits",
        {"usd": {"max_per_payment": 100, "max_per_customer_per_day": 99}},
        "amount_limits.usd.max_per_customer_per_day",
    ),
    ("amount_limits", {"usd": {"max_per_payment": 100}}, "amount_limits.usd.max_per_customer_per_day"),
    (
        "amount_limits",
        {"usd": {"max_per_payment": 100, "max_per_customer_per_day": 100, "max": 1}},
        "amount_limits.usd.max",
    ),
    ("review.review_above_amount", {"eur": -1}, "review.review_above_amount.eur"),
    ("review.review_countries", ["us"], "review.review_countries.0"),
    ("review.review_countries", ["USA"], "review.review_countries.0"),
    ("review.review_hold_hours", 0, "review.review_hold_hours"),
    ("review.review_hold_hours", 7 * 24, "review.review_hold_hours"),
    ("review.review_hold_hours", 6 * 24 + 1, "review.review_hold_hours"),
    ("external_hook", {"function_name": "scorer", "timeout_ms": 0}, "external_hook.timeout_ms"),
    ("external_hook", {"function_name": "scorer", "timeout_ms": 5001}, "external_hook.timeout_ms"),
    ("external_hook", {"function_name": "scorer", "on_failure": "ignore"}, "external_hook.on_failure"),
    ("external_hook", {"function_name": "no spaces allowed"}, "external_hook.function_name"),
    ("external_hook", {"timeout_ms": 100}, "external_hook.function_name"),
    ("early_fraud_warning", "ignore", "early_fraud_warning"),
    ("version", -1, "version"),
    ("colour", "red", "colour"),
]


@pytest.mark.parametrize(("path", "value", "field"), BAD_RULES, ids=[f"{p}={v!r}" for p, v, _ in BAD_RULES])
def test_a_bad_rule_is_refused_with_its_field_and_nothing_is_stored(aws, bus, path, value, field):
    response = admin("PUT", "/risk/rules", body=changed(current(), path, value))

    assert (response.status, response.body["code"]) == (400, "validation_error"), response.body
    assert field in [error["field"] for error in response.body["errors"]]
    assert items() == []
    assert risk_events(bus) == []


def test_the_hold_may_last_six_days_and_a_hook_may_be_an_alias_of_an_arn(aws):
    wanted = changed(current(), "review.review_hold_hours", 6 * 24)
    wanted = changed(
        wanted,
        "external_hook",
        {
            "function_name": "arn:aws:lambda:eu-west-1:123456789012:function:risk-hook-scorer:live",
            "timeout_ms": 5000,
        },
    )
    response = admin("PUT", "/risk/rules", body=wanted)
    assert response.status == 200, response.body
    assert response.body["external_hook"]["on_failure"] == "review"  # the default


def test_missing_idempotency_key_is_refused_and_nothing_is_stored(aws):
    response = admin("PUT", "/risk/rules", body=current(), idempotency_key=None)
    assert (response.status, response.body["code"]) == (400, "idempotency_key_missing")
    assert "PUT" in response.body["detail"]
    assert items() == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/risk/rules", None),
        ("PUT", "/risk/rules", RiskRules().model_dump(mode="json")),
        ("GET", "/risk/audit", None),
    ],
)
def test_a_customer_is_refused(aws, method, path, body):
    response = call(method, path, body=body)
    assert (response.status, response.body["code"]) == (403, "forbidden")
    assert items() == []
