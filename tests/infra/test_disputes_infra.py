"""Disputes in the stack: the sparse index, the deadline watcher's schedule, the past-due alarm and its
dashboard widget, admin-only routes."""

from __future__ import annotations

from typing import Any

from infra import catalog
from infra.aws.naming import construct_id
from tests.infra.stacks import Stage, ref

ROUTES = ("list_disputes", "get_dispute", "submit_dispute_evidence", "accept_dispute")


def test_the_payments_table_lists_disputes_through_a_sparse_index(stage: Stage) -> None:
    props = stage.at(f"Tables/{construct_id(catalog.PAYMENTS.name)}/Resource")[1]["Properties"]
    (index,) = [i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] == "disputes"]
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["dispute_pk", "due_sk"]


def test_every_dispute_route_is_for_admins_only() -> None:
    admin = set(catalog.admin_routes())
    for name in ROUTES:
        route = catalog.function(name).route
        assert route is not None, name
        assert route.admin_only, name
        assert f"{route.method} {route.path}" in admin


def test_the_watcher_runs_every_15_minutes(stage: Stage) -> None:
    function_id = stage.logical_id(f"Functions/{construct_id('dispute_deadlines')}/Function/Resource")
    rules = [
        r["Properties"]
        for r in stage.of_type("AWS::Events::Rule").values()
        if any(ref(t["Arn"]) == f"{function_id}.Arn" for t in r["Properties"]["Targets"])
    ]
    assert [r.get("ScheduleExpression") for r in rules] == ["rate(15 minutes)"]


def past_due_alarm(stage: Stage) -> dict[str, Any]:
    (alarm,) = [
        r["Properties"]
        for r in stage.of_type("AWS::CloudWatch::Alarm").values()
        if r["Properties"].get("MetricName") == "DisputesPastDue"
    ]
    return alarm


def test_the_past_due_alarm_fires_on_any_dispute_past_due_and_on_silence(stage: Stage) -> None:
    alarm = past_due_alarm(stage)
    assert alarm["Namespace"] == catalog.METRICS_NAMESPACE
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == catalog.metric_dimensions(stage.name)
    assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["Statistic"]) == (
        "GreaterThanThreshold",
        0,
        "Maximum",
    )
    # The watcher reports every 15 minutes: an hour without a report means it stopped.
    assert (alarm["Period"], alarm["TreatMissingData"]) == (3600, "breaching")
    topic = stage.logical_id("Monitoring/AlarmTopic/Resource")
    assert [ref(a) for a in alarm["AlarmActions"]] == [topic]


def test_the_dashboard_shows_disputes_past_due(stage: Stage) -> None:
    from tests.infra.test_monitoring import dashboard_metrics

    dims = [str(part) for item in catalog.metric_dimensions(stage.name).items() for part in item]
    assert [catalog.METRICS_NAMESPACE, "DisputesPastDue", *dims] in dashboard_metrics(stage)
