"""The bus, its archive, one rule per subscriber with the catalog's pattern, DLQs and retries everywhere."""

from __future__ import annotations

from typing import Any

import pytest

from infra import catalog
from infra.aws.config import DEFAULTS
from infra.aws.naming import construct_id
from tests.infra.stacks import Stage, as_list, ref

SUBSCRIBERS = pytest.mark.parametrize("spec", catalog.subscribers(), ids=lambda f: f.name)
ASYNC = [f for f in catalog.FUNCTIONS if f.subscription or f.schedule_minutes]
SCHEDULED = [f for f in catalog.FUNCTIONS if f.schedule_minutes]
# (function, rule suffix): every trigger of every asynchronous function.
TRIGGERS = [(f, "Rule") for f in catalog.FUNCTIONS if f.subscription] + [(f, "Schedule") for f in SCHEDULED]


def rule(stage: Stage, spec: catalog.Function, suffix: str | None = None) -> dict[str, Any]:
    suffix = suffix or ("Rule" if spec.subscription else "Schedule")
    props: dict[str, Any] = stage.at(f"Events/{construct_id(spec.name)}{suffix}/Resource")[1]["Properties"]
    return props


def test_bus_and_archive(stage: Stage) -> None:
    """Both encrypted with the service's key; the archive keeps both sources for replays."""
    bus_id, bus = stage.at("Events/Bus/Resource")
    assert bus["Properties"]["Name"] == DEFAULTS[stage.name].physical_name(catalog.EVENT_BUS)
    assert ref(bus["Properties"]["KmsKeyIdentifier"]) == f"{stage.logical_id('Security/Key/Resource')}.Arn"
    # The same construct path, so the same logical id as when the bus made it (bus.archive()).
    archive_resource = stage.at("Events/Bus/Archive/Archive")[1]
    archive = archive_resource["Properties"]
    # The bus by its ARN (a reference would make the key and the bus depend on each other), after it.
    assert ref(archive["SourceArn"]).endswith(f":event-bus/{bus['Properties']['Name']}")
    assert bus_id in archive_resource["DependsOn"]
    assert ref(archive["KmsKeyIdentifier"]) == f"{stage.logical_id('Security/Key/Resource')}.Arn"
    assert set(archive["EventPattern"]["source"]) == {
        catalog.DOMAIN_EVENT_SOURCE,
        catalog.STRIPE_EVENT_SOURCE,
    }
    assert archive["RetentionDays"] == DEFAULTS[stage.name].archive_retention_days


@SUBSCRIBERS
def test_subscriber_rule_has_the_catalog_pattern(stage: Stage, spec: catalog.Function) -> None:
    assert spec.subscription is not None
    props = rule(stage, spec)
    assert ref(props["EventBusName"]) == stage.logical_id("Events/Bus/Resource")
    assert props["EventPattern"] == spec.subscription.pattern()


def test_every_rule_has_a_dead_letter_queue_and_a_retry_policy(stage: Stage) -> None:
    rules = stage.of_type("AWS::Events::Rule")
    assert len(rules) == len(TRIGGERS)
    for logical_id, resource in rules.items():
        for target in resource["Properties"]["Targets"]:
            assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0, logical_id
            assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] > 0, logical_id
            dlq = stage.resources[ref(target["DeadLetterConfig"]["Arn"]).removesuffix(".Arn")]
            assert dlq["Type"] == "AWS::SQS::Queue", logical_id


@pytest.mark.parametrize(("spec", "suffix"), TRIGGERS, ids=lambda t: getattr(t, "name", t))
def test_rule_targets_the_function_and_failures_land_in_its_queue(
    stage: Stage, spec: catalog.Function, suffix: str
) -> None:
    (target,) = rule(stage, spec, suffix)["Targets"]
    function_id = stage.logical_id(f"Functions/{construct_id(spec.name)}/Function/Resource")
    assert ref(target["Arn"]) == f"{function_id}.Arn"
    dlq = stage.logical_id(f"Events/{construct_id(spec.name)}DeadLetters/Resource")
    assert ref(target["DeadLetterConfig"]["Arn"]) == f"{dlq}.Arn"
    (invoke_config,) = [
        r["Properties"]
        for r in stage.of_type("AWS::Lambda::EventInvokeConfig").values()
        if ref(r["Properties"]["FunctionName"]) == function_id
    ]
    assert ref(invoke_config["DestinationConfig"]["OnFailure"]["Destination"]) == f"{dlq}.Arn"


def test_dead_letter_queues_are_encrypted_and_refuse_plain_http(stage: Stage) -> None:
    queues = stage.of_type("AWS::SQS::Queue")
    assert queues
    for logical_id, queue in queues.items():
        assert queue["Properties"].get("SqsManagedSseEnabled") or queue["Properties"].get("KmsMasterKeyId")
        (policy,) = [
            p["Properties"]["PolicyDocument"]
            for p in stage.of_type("AWS::SQS::QueuePolicy").values()
            if {"Ref": logical_id} in p["Properties"]["Queues"]
        ]
        assert {
            "Action": "sqs:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": {"Fn::GetAtt": [logical_id, "Arn"]},
        } in policy["Statement"]


@pytest.mark.parametrize("spec", SCHEDULED, ids=lambda f: f.name)
def test_scheduled_function_runs_on_its_schedule(stage: Stage, spec: catalog.Function) -> None:
    minutes = spec.schedule_minutes
    assert minutes is not None
    # CDK writes the rate in its largest whole unit (1440 minutes: "rate(1 day)").
    size, unit = next((s, u) for s, u in ((1440, "day"), (60, "hour"), (1, "minute")) if minutes % s == 0)
    count = minutes // size
    props = rule(stage, spec, "Schedule")
    assert props["ScheduleExpression"] == f"rate({count} {unit}{'' if count == 1 else 's'})"
    assert "EventBusName" not in props  # schedules live on the default bus, not on the payments bus


def test_the_key_lets_eventbridge_use_it_for_this_bus_only(stage: Stage) -> None:
    key = stage.at("Security/Key/Resource")[1]["Properties"]["KeyPolicy"]["Statement"]
    events_statements = [s for s in key if s.get("Principal") == {"Service": "events.amazonaws.com"}]
    assert events_statements
    bus_name = DEFAULTS[stage.name].physical_name(catalog.EVENT_BUS)
    for statement in events_statements:
        if as_list(statement["Action"]) == ["kms:DescribeKey"]:
            continue  # which key it is, nothing it protects
        assert f":event-bus/{bus_name}" in ref(statement["Condition"]), statement
