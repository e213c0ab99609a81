"""Alarms for every failure the service can have, on an encrypted topic; the business dashboard."""

from __future__ import annotations

import json
import re
from typing import Any

from infra import catalog
from infra.aws.config import DEFAULTS
from infra.aws.monitoring import BUSINESS_COUNTS, RADAR_COUNTS, RISK_COUNTS
from tests.infra.stacks import REPO, Stage, as_list, ref


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
    # All but CDK's BucketDeployment function: it runs inside a deployment, which fails if it does.
    functions = {
        logical_id
        for logical_id, fn in stage.of_type("AWS::Lambda::Function").items()
        if "CDKBucketDeployment" not in fn["Metadata"]["aws:cdk:path"]
    }
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
        assert dimensions(alarm) == catalog.metric_dimensions(stage.name)
        assert alarm["Threshold"] == threshold


def test_money_mismatch_alarms_fire_on_any_occurrence(stage: Stage) -> None:
    topic_id = stage.logical_id("Monitoring/AlarmTopic/Resource")
    for metric in ("StrayCharges", "JanitorUnsettled", "StripeMoneyFieldMissing"):
        (alarm,) = alarms_on(stage, catalog.METRICS_NAMESPACE, metric)
        assert dimensions(alarm) == catalog.metric_dimensions(stage.name), metric
        assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 300, 1), metric
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0), metric
        assert alarm["TreatMissingData"] == "notBreaching", metric
        assert [ref(a) for a in alarm["AlarmActions"]] == [topic_id], metric


def test_alarms_notify_the_encrypted_topic(stage: Stage) -> None:
    topic_id, topic = stage.at("Monitoring/AlarmTopic/Resource")
    assert ref(topic["Properties"]["KmsMasterKeyId"]) == f"{stage.logical_id('Security/Key/Resource')}.Arn"
    for alarm in alarms(stage):
        assert [ref(a) for a in alarm["AlarmActions"]] == [topic_id], alarm["AlarmName"]


def dashboard_metrics(stage: Stage) -> list[list[str]]:
    """The dashboard's metrics, each as [namespace, name, dimension, value, ...] (options dropped)."""
    (dashboard,) = stage.of_type("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    text = (
        body
        if isinstance(body, str)
        else "".join(p if isinstance(p, str) else "TOKEN" for p in body["Fn::Join"][1])
    )
    found: list[list[str]] = []
    for widget in json.loads(text)["widgets"]:
        for metric in widget["properties"].get("metrics", []):
            found.append([part for part in metric if isinstance(part, str)])
    return found


def test_dashboard_shows_the_business_metrics_of_its_stage(stage: Stage) -> None:
    dims = [str(part) for item in catalog.metric_dimensions(stage.name).items() for part in item]
    shown = dashboard_metrics(stage)
    for metric in (*BUSINESS_COUNTS, *RADAR_COUNTS, *RISK_COUNTS, "WebhookLagSeconds"):
        assert [catalog.METRICS_NAMESPACE, metric, *dims] in shown, metric
    # Every metric of ours on it is this stage's.
    for graphed in shown:
        if graphed[0] == catalog.METRICS_NAMESPACE:
            assert graphed[2:] == dims, graphed


def test_code_emits_the_dimensions_the_alarms_read() -> None:
    """payments.observability puts the stage (from STAGE, as CDK sets it) beside the service on every
    metric: exactly catalog.metric_dimensions, which the alarms and the dashboard select. In a process of
    its own: the module sets Powertools' shared default dimensions when imported."""
    import os
    import subprocess
    import sys

    script = "import payments.observability as o; o.count('PaymentsSucceeded'); o.metrics.flush_metrics()"
    environment = {
        **os.environ,
        "STAGE": "qa",
        "POWERTOOLS_METRICS_DISABLED": "false",
        "POWERTOOLS_SERVICE_NAME": catalog.SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": catalog.METRICS_NAMESPACE,
        "PYTHONPATH": str(REPO / "layers/core/python"),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, check=True
    )
    blob = json.loads(done.stdout.strip().splitlines()[-1])
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == catalog.METRICS_NAMESPACE
    (dimension_set,) = directive["Dimensions"]
    assert {name: blob[name] for name in dimension_set} == catalog.metric_dimensions("qa")


def test_alarm_topic_lets_only_this_stacks_alarms_publish(stage: Stage) -> None:
    """enforce_ssl's deny replaces SNS's default policy: CloudWatch is allowed, for this stack's alarms."""
    topic_id = stage.logical_id("Monitoring/AlarmTopic/Resource")
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in stage.of_type("AWS::SNS::TopicPolicy").values()
        if {"Ref": topic_id} in p["Properties"]["Topics"]
    ]
    allows = [s for s in policy if s["Effect"] == "Allow"]
    (publish,) = allows
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert publish["Action"] == "sns:Publish"
    assert ref(publish["Resource"]) == topic_id
    assert_conditions_name_this_stacks_alarms(stage, publish["Condition"])
    denies = [s for s in policy if s["Effect"] == "Deny"]
    assert [d["Condition"] for d in denies] == [{"Bool": {"aws:SecureTransport": "false"}}]


def test_key_lets_cloudwatch_encrypt_for_this_stacks_alarms_only(stage: Stage) -> None:
    key = stage.at("Security/Key/Resource")[1]["Properties"]["KeyPolicy"]["Statement"]
    (statement,) = [s for s in key if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert sorted(as_list(statement["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert statement["Resource"] == "*"
    assert_conditions_name_this_stacks_alarms(stage, statement["Condition"])


def assert_conditions_name_this_stacks_alarms(stage: Stage, condition: dict[str, Any]) -> None:
    assert condition["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    arn = ref(condition["ArnLike"]["aws:SourceArn"])
    prefix = DEFAULTS[stage.name].physical_name(catalog.SERVICE_NAME)
    # The stack's region and partition are known at synth, its account is not.
    pattern = rf"arn:aws:cloudwatch:[a-z0-9-]+:AWS::AccountId:alarm:{re.escape(prefix)}-\*"
    assert re.fullmatch(pattern, arn), arn
    # The pattern covers every alarm that notifies the topic: else its notifications would be refused.
    for alarm in alarms(stage):
        assert alarm["AlarmName"].startswith(f"{prefix}-"), alarm["AlarmName"]
