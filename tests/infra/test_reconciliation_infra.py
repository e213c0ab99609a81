"""Reconciliation in the stack: its table, its alarm, its routes for admins only, least privilege, and the
reconcile function's triggers (the daily schedule, and Stripe's payout.paid and
payout.reconciliation_completed)."""

from __future__ import annotations

from typing import Any

from infra import catalog
from infra.aws.naming import construct_id
from tests.infra.stacks import Stage, ref

RECONCILIATION_FUNCTIONS = (
    "reconcile",
    "start_reconciliation_run",
    "list_reconciliation_runs",
    "get_reconciliation_run",
    "get_reconciliation_differences",
)


def test_the_alarm_fires_on_any_unexplained_difference_until_a_clean_run(stage: Stage) -> None:
    (alarm,) = [
        r["Properties"]
        for r in stage.of_type("AWS::CloudWatch::Alarm").values()
        if r["Properties"].get("MetricName") == "ReconciliationUnexplainedDifferences"
    ]
    assert alarm["Namespace"] == catalog.METRICS_NAMESPACE
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == catalog.metric_dimensions(stage.name)
    assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["Statistic"]) == (
        "GreaterThanThreshold",
        0,
        "Maximum",
    )
    # Runs are a day apart: no data keeps the state a run left (in alarm until a clean run says 0).
    assert alarm["TreatMissingData"] == "ignore"
    topic = stage.logical_id("Monitoring/AlarmTopic/Resource")
    assert [ref(a) for a in alarm["AlarmActions"]] == [topic]
    assert [ref(a) for a in alarm["OKActions"]] == [topic]


def test_the_table_lists_runs_through_a_sparse_index(stage: Stage) -> None:
    props = stage.at(f"Tables/{construct_id(catalog.RECONCILIATION.name)}/Resource")[1]["Properties"]
    (index,) = props["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "runs"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["runs_pk", "started_sk"]
    assert catalog.RECONCILIATION in catalog.TABLES


def test_every_route_is_for_admins_only() -> None:
    routes = {fn.name: fn.route for fn in catalog.FUNCTIONS if fn.name in RECONCILIATION_FUNCTIONS}
    assert routes.pop("reconcile") is None
    assert all(route is not None and route.admin_only for route in routes.values())
    admin = set(catalog.admin_routes())
    assert {f"{r.method} {r.path}" for r in routes.values() if r} <= admin


def test_each_function_gets_only_what_it_uses() -> None:
    access = {name: catalog.function(name) for name in RECONCILIATION_FUNCTIONS}
    # Which tables; the actions on each are test_least_privilege.py's.
    assert set(access["reconcile"].tables) == {catalog.LEDGER, catalog.RECONCILIATION}
    assert not access["reconcile"].tables[catalog.LEDGER].stores
    assert set(access["start_reconciliation_run"].tables) == {
        catalog.LEDGER,
        catalog.RECONCILIATION,
        catalog.IDEMPOTENCY,
    }
    for reader in ("list_reconciliation_runs", "get_reconciliation_run", "get_reconciliation_differences"):
        assert set(access[reader].tables) == {catalog.RECONCILIATION}, reader
        assert not access[reader].tables[catalog.RECONCILIATION].stores, reader
        assert access[reader].publishes is None, reader
        assert catalog.STRIPE_API_KEY not in access[reader].secrets, reader
    assert access["get_reconciliation_differences"].secrets == ()  # no cursor: the whole list at once
    assert {access[n].publishes for n in ("reconcile", "start_reconciliation_run")} == {"payments"}


def test_the_webhook_forwards_payout_paid_for_the_reconcile_function() -> None:
    reconcile = catalog.function("reconcile")
    triggers = ("payout.paid", "payout.reconciliation_completed")
    assert reconcile.subscription == catalog.Subscription(catalog.STRIPE_EVENT_SOURCE, triggers)
    assert set(triggers) <= set(catalog.forwarded_stripe_events())
    assert reconcile.schedule_minutes == 1440


def rules_targeting(stage: Stage, function: str) -> list[dict[str, Any]]:
    function_id = stage.logical_id(f"Functions/{construct_id(function)}/Function/Resource")
    return [
        r["Properties"]
        for r in stage.of_type("AWS::Events::Rule").values()
        if any(ref(t["Arn"]) == f"{function_id}.Arn" for t in r["Properties"]["Targets"])
    ]


def test_the_payout_rule_targets_the_reconcile_function(stage: Stage) -> None:
    patterns = [r.get("EventPattern") for r in rules_targeting(stage, "reconcile")]
    assert {
        "source": ["stripe"],
        "detail-type": ["payout.paid", "payout.reconciliation_completed"],
    } in patterns


def test_the_daily_schedule_targets_the_reconcile_function(stage: Stage) -> None:
    schedules = [r.get("ScheduleExpression") for r in rules_targeting(stage, "reconcile")]
    assert "rate(1 day)" in schedules or "rate(1440 minutes)" in schedules
