"""The operator tools' pure parts: reading both shapes of dead-letter message, time ranges and replay
names, ARNs, the local stack's names, and the Makefile targets' commands."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra import catalog
from infra.local import resources
from infra.local.dispatcher import failure_record
from tools.operations import dead_letters, replay
from tools.operations.deployment import BadInput, aws, local, resource_name

NOW = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)  # a fixed "now": nothing here reads the clock
EVENT = {
    "version": "0",
    "id": "3b1a0c1e-0000-4000-8000-000000000001",
    "detail-type": "refund.created",
    "source": "stripe",
    "time": "2026-11-27T15:00:00Z",
    "detail": {"id": "evt_1", "type": "refund.created", "payment_id": "pay_1"},
}


def message(body: Any, attributes: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": body if isinstance(body, str) else json.dumps(body),
        "Attributes": {"SentTimestamp": str(int(NOW.timestamp() * 1000) - 60_000)},
        "MessageAttributes": {
            k: {"DataType": "String", "StringValue": v} for k, v in (attributes or {}).items()
        },
    }


def test_lambdas_failure_record_as_the_dispatcher_parks_it() -> None:
    record = failure_record("refunds", EVENT, 3, KeyError("payment pay_1 is not known"), "123456789012")

    letter = dead_letters.parse(message(record))

    assert letter.event == EVENT
    assert letter.function == "arn:aws:lambda:us-east-1:123456789012:function:refunds:$LATEST"
    assert letter.error == "KeyError: 'payment pay_1 is not known'"
    assert letter.attempts == 3
    assert (letter.event_id, letter.detail_type, letter.subject) == ("evt_1", "refund.created", "pay_1")
    assert letter.parked_at == NOW - timedelta(minutes=1)
    line = dead_letters.describe(letter, NOW)
    assert "evt_1  refund.created  pay_1  attempts 3  age 30m 0s  parked 1m 0s ago" in line
    assert "error: KeyError: 'payment pay_1 is not known'" in line


def test_a_record_without_an_answer_names_its_condition() -> None:
    record = failure_record("refunds", EVENT, 1, RuntimeError("x"), "1")
    del record["responsePayload"]
    record["requestContext"]["condition"] = "EventAgeExceeded"

    assert dead_letters.parse(message(record)).error == "EventAgeExceeded"


def test_eventbridges_own_dead_letter_carries_the_error_in_attributes() -> None:
    target = "arn:aws:lambda:eu-west-1:111122223333:function:payments-accounting"
    domain = {**EVENT, "source": "payments", "detail": {"event_id": "ev_9", "payment_id": "pay_2"}}
    attributes = {
        "ERROR_CODE": "NO_PERMISSIONS",
        "ERROR_MESSAGE": "EventBridge cannot invoke the function",
        "RETRY_ATTEMPTS": "0",
        "RULE_ARN": "arn:aws:events:eu-west-1:111122223333:rule/payments/AccountingRule",
        "TARGET_ARN": target,
    }

    letter = dead_letters.parse(message(domain, attributes))

    assert letter.event == domain
    assert letter.function == target
    assert letter.error == "NO_PERMISSIONS: EventBridge cannot invoke the function"
    assert letter.attempts == 1
    assert letter.event_id == "ev_9"  # the domain event's id, which the ledger dedupes on


@pytest.mark.parametrize("body", ["not json", "[1, 2]", {"hello": "world"}])
def test_anything_else_is_unreadable_and_never_delivered(body: Any) -> None:
    letter = dead_letters.parse(message(body))

    assert letter.event is None
    assert letter.function is None
    assert letter.error.startswith("unreadable")


def test_a_day_is_the_whole_utc_day_and_to_includes_its_day() -> None:
    one_day = replay.time_range("2026-11-25", None, NOW)
    two_days = replay.time_range("2026-11-25", "2026-11-26", NOW)

    assert (one_day.start, one_day.end) == (
        datetime(2026, 11, 25, tzinfo=UTC),
        datetime(2026, 11, 26, tzinfo=UTC),
    )
    assert two_days.end == datetime(2026, 11, 27, tzinfo=UTC)


def test_moments_are_exact_and_utc_unless_they_say_otherwise() -> None:
    span = replay.time_range("2026-11-25T10:00:00+01:00", "2026-11-25T12:30:00", NOW)

    assert span.start == datetime(2026, 11, 25, 9, tzinfo=UTC)
    assert span.end == datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
    # A moment alone: to the end of its day (the replay itself stops now).
    assert replay.time_range("2026-11-27T09:00:00Z", None, NOW).end == datetime(2026, 11, 28, tzinfo=UTC)


@pytest.mark.parametrize(
    ("first", "last", "says"),
    [
        ("2026-11-26", "2026-11-25", "must come before"),
        ("2026-11-25T12:00:00Z", "2026-11-25T12:00:00Z", "must come before"),
        ("2026-11-28", None, "in the future"),
        ("yesterday", None, "give a day"),
        ("2026-11-25", "2026-13-01", "give a day"),
    ],
)
def test_a_bad_range_is_bad_input(first: str, last: str | None, says: str) -> None:
    with pytest.raises(BadInput, match=says):
        replay.time_range(first, last, NOW)


def test_the_replay_name_is_one_per_bus_rule_and_range() -> None:
    span = replay.time_range("2026-11-25", None, NOW)
    same = replay.time_range("2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z", NOW)

    name = replay.replay_name("payments-dev", "payment_status", span)

    assert name == "payments-dev-payment_status-20261125T000000Z-20261126T000000Z"
    assert replay.replay_name("payments-dev", "payment_status", same) == name
    assert replay.replay_name("payments-dev", "refunds", span) != name
    long = replay.replay_name("payments-dev", "Payments-Dev-EventsAccountingRuleA1B2C3D4E5", span)
    assert len(long) == replay.NAME_LIMIT
    assert long != replay.replay_name("payments-dev", "Payments-Dev-EventsAccountingRuleA1B2C3D4E6", span)


@pytest.mark.parametrize(
    ("arn", "name"),
    [
        ("arn:aws:lambda:eu-west-1:1:function:payments-dev-refunds", "payments-dev-refunds"),
        ("arn:aws:lambda:eu-west-1:1:function:payments-refunds:live", "payments-refunds"),
        ("arn:aws:sqs:us-east-1:123456789012:refunds-events", "refunds-events"),
        ("arn:aws:events:us-east-1:123456789012:rule/payments/refunds", "refunds"),
        ("refunds", "refunds"),
    ],
)
def test_resource_names_of_arns(arn: str, name: str) -> None:
    assert resource_name(arn) == name


def test_the_local_names_are_the_local_stacks() -> None:
    deployment = local("http://127.0.0.1:5050", "http://127.0.0.1:5060", "http://127.0.0.1:3000/v1")

    for fn in catalog.subscribers():
        queue, dlq = resources.subscriber_queue_names(fn)
        assert deployment.dead_letter_queue_name(fn.name) == dlq
        assert deployment.function_name(fn.name) == fn.name
        assert deployment.delivers_to(f"arn:aws:sqs:us-east-1:123456789012:{queue}", fn.name)
    assert deployment.bus == resources.LOCAL_BUS
    assert deployment.endpoints == {
        "lambda": "http://127.0.0.1:3000/_local/lambda",
        "dynamodb": "http://127.0.0.1:5060",
    }


def test_a_stage_name_and_a_region_are_required() -> None:
    with pytest.raises(BadInput, match="not a stage name"):
        aws("Prod; rm", region="eu-west-1")
    deployment = aws("dev", region="eu-west-1")
    assert deployment.delivers_to("arn:aws:lambda:eu-west-1:1:function:payments-dev-refunds", "refunds")
    assert not deployment.delivers_to("arn:aws:lambda:eu-west-1:1:function:payments-refunds", "refunds")


@pytest.mark.parametrize(
    ("target", "variables", "command"),
    [
        ("dlq-list", ["QUEUE=refunds"], "-m tools.operations --local dlq list --queue refunds"),
        ("dlq-redrive", ["MAX=5"], "-m tools.operations --local dlq redrive --max 5"),
        (
            "archive-replay",
            ["FROM=2026-11-25", "TO=2026-11-26", "RULE=accounting"],
            "-m tools.operations --local archive replay --from 2026-11-25 --to 2026-11-26 --rule accounting",
        ),
        ("stripe-redeliver", ["EVENT=evt_1"], "-m tools.operations --local stripe redeliver --event evt_1"),
    ],
)
def test_the_make_targets_run_the_tools_against_the_local_stack(
    target: str, variables: list[str], command: str
) -> None:
    # -n prints what would run; the install prerequisite is left out (-o), so nothing is installed.
    shown = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", target, *variables],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout

    assert command in " ".join(shown.split())
