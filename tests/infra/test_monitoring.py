"""Alarms for every failure the service can have, on an encrypted topic; the business dashboard."""

from __future__ import annotations

import json
from typing import Any

from infra import catalog
from infra.aws.config import DEFAULTS
from infra.aws.monitoring import BUSINESS_COUNTS
from tests.infra.stacks import Stage, ref


def alarms(stage: Stage) -> list[dict[str, Any]]:
    return [r["Properties"] for r in stage.of_type("AWS::CloudWatch::Alarm").values()]


def dimensions(alarm: dict[str, Any]) -> dict[str, str]:
    return {d["Name"]: ref(d["Value"]) for d in alarm.get("Dimensions", [])}


def alarms_on(stage: Stage, namespace: str, metric: str) -> list[dict[str, Any]]:
    return [a for a in alarms(stage) if a.get("Namespace") == namespace and a.get("MetricName") == metric]


def test_every_dead_letter_queue_has_an_alarm(stage: Stage) -> None:
    watched = {
        dimensions(a)["QueueName"].removesuffix(".QueueName")
        for a in alarms_on(stage, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
        if a["Threshold"] == 1
    }
    assert watched == set(stage.of_type("AWS::SQS::Queue"))


def test_every_function_has_error_and_throttle_alarms(stage: Stage) -> None:
    functions = set(stage.of_type("AWS::Lambda::Function"))
    for metric in ("Errors", "Throttles"):
        assert {dimensions(a)["FunctionName"] for a in alarms_on(stage, "AWS/Lambda", metric)} == functions


def test_api_5xx_alarm(stage: Stage) -> None:
    (alarm,) = alarms_on(stage, "AWS/ApiGateway", "5XXError")
    assert alarm["Threshold"] == DEFAULTS[stage.name].alarm_api_5xx_per_5min
    assert set(dimensions(alarm)) == {"ApiName", "Stage"}


def test_service_metric_alarms(stage: Stage) -> None:
    config = DEFAULTS[stage.name]
    expected = {
        "OutboxOldestUnpublishedSeconds": config.alarm_outbox_oldest_seconds,
        "WebhookSignatureFailures": config.alarm_webhook_signature_failures_per_5min,
    }
    for metric, threshold in expected.items():
        (alarm,) = alarms_on(stage, catalog.METRICS_NAMESPACE, metric)
        assert dimensions(alarm) == {"service": catalog.SERVICE_NAME}
        assert alarm["Threshold"] == threshold


def test_money_mismatch_alarms_fire_on_any_occurrence(stage: Stage) -> None:
    topic_id = stage.logical_id("Monitoring/AlarmTopic/Resource")
    for metric in ("StrayCharges", "JanitorUnsettled", "StripeMoneyFieldMissing"):
        (alarm,) = alarms_on(stage, catalog.METRICS_NAMESPACE, metric)
        assert dimensions(alarm) == {"service": catalog.SERVICE_NAME}, metric
        assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 300, 1), metric
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0), metric
        assert alarm["TreatMissingData"] == "notBreaching", metric
        assert [ref(a) for a in alarm["AlarmActions"]] == [topic_id], metric


def test_alarms_notify_the_encrypted_topic(stage: Stage) -> None:
    topic_id, topic = stage.at("Monitoring/AlarmTopic/Resource")
    assert ref(topic["Properties"]["KmsMasterKeyId"]) == f"{stage.logical_id('Security/Key/Resource')}.Arn"
    for alarm in alarms(stage):
        assert [ref(a) for a in alarm["AlarmActions"]] == [topic_id], alarm["AlarmName"]


def test_dashboard_shows_the_business_metrics(stage: Stage) -> None:
    (dashboard,) = stage.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in (*BUSINESS_COUNTS, "WebhookLagSeconds"):
        assert (
            f'\\"{catalog.METRICS_NAMESPACE}\\",\\"{metric}\\",\\"service\\",\\"{catalog.SERVICE_NAME}\\"'
            in body
        )
