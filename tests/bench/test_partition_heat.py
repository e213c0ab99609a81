"""No partition key takes more than DynamoDB's ~1,000 write units a second at 10,000 payments a second
(bench/heat.py), with the keys the real calls wrote: a shared key that lost its shards (by_status back
to `STATUS#<status>`, the outbox to a few keys) fails here before it throttles in production."""

from __future__ import annotations

import copy
import re

import pytest

from bench import cost, design, heat
from payments.adapters.dynamodb import shards
from tests.support.bench import run_bench

# The traffic mix: payments, captures and refunds, what they cause, and the scheduled functions.
MIX = [
    "process_payment",
    "capture_payment",
    "refund_payment",
    "stripe_webhook",
    "payment_status",
    "refunds",
    "accounting",
    "outbox_relay",
    "janitor",
    "dispute_deadlines",
    "reconcile",
]


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict:
    arguments = ["--only", "warm,heat", "--functions", ",".join(MIX), "--warm-calls", "1"]
    results, _ = run_bench([*arguments, "--detailed-calls", "2"], tmp_path_factory.mktemp("heat"))
    return results


def _key(results: dict, target: str, pattern: str) -> dict:
    return next(k for k in results["heat"]["keys"] if (k["target"], k["pattern"]) == (target, pattern))


def test_every_key_of_the_mix_is_within_the_budget(measured):
    model = measured["heat"]
    assert model["notes"] == [], "every function of the mix is measured"
    assert model["payments_per_second"] == 10_000
    assert heat.over_budget(model) == []


def test_the_hot_families_are_written_sharded_by_the_real_calls(measured):
    succeeded = _key(measured, "payments/by_status", f"STATUS#succeeded#<shard:{shards.STATUS_SHARDS}>")
    assert succeeded["wcu_per_s"] > 10_000  # every payment goes through it: unsharded, it would throttle
    assert {"process_payment", "capture_payment"} <= set(succeeded["written_by"])
    pending = _key(measured, "payments/by_status", f"STATUS#pending#<shard:{shards.STATUS_SHARDS}>")
    assert pending["written_by"] == ["process_payment"]
    outbox = _key(measured, "payments/outbox", f"OUTBOX#<shard:{shards.OUTBOX_SHARDS}>")
    assert outbox["wcu_per_s"] > 10_000
    journal = _key(measured, "ledger", f"JOURNAL#usd#<day>#<shard:{shards.JOURNAL_SHARDS}>")
    assert journal["written_by"] == ["accounting"]


def test_the_same_writes_on_one_key_per_family_are_over_the_budget(measured):
    # What the model says of the same calls had by_status, the outbox and the journal one key each.
    unsharded = copy.deepcopy(measured["warm"])
    for op in unsharded["operations"].values():
        writes = op.get("requests", {}).get("writes_by_key_per_call", {})
        for target, keys in writes.items():
            merged: dict[str, float] = {}
            for pattern, units in keys.items():
                one = re.sub(r"#<shard:\d+>$", "", pattern)
                merged[one] = merged.get(one, 0.0) + units
            writes[target] = merged
    over = heat.over_budget(heat.model(unsharded, cost.load_prices()))
    assert any(k.startswith("payments/by_status STATUS#succeeded ") for k in over), over
    assert any(k.startswith("payments/outbox OUTBOX ") for k in over), over


@pytest.mark.parametrize(
    ("written", "pattern"),
    [
        ("STATUS#succeeded#7", f"STATUS#succeeded#<shard:{shards.STATUS_SHARDS}>"),
        ("REFUND#awaiting_stripe#0", f"REFUND#awaiting_stripe#<shard:{shards.STATUS_SHARDS}>"),
        ("OUTBOX#63", f"OUTBOX#<shard:{shards.OUTBOX_SHARDS}>"),
        ("JOURNAL#usd#2026-12-02#5", f"JOURNAL#usd#<day>#<shard:{shards.JOURNAL_SHARDS}>"),
        ("PAYMENT#pay_01HXAMPLE", "PAYMENT#<id>"),
        ("ORDER#order-abcdef", "ORDER#<id>"),
        ("CUSTOMER#cus_bench_process_payment", "CUSTOMER#<id>"),
        ("VELOCITY#ip#127.0.0.1", "VELOCITY#ip#<id>"),
        ("HOLDS", "HOLDS"),
        ("STATUS#succeeded", "STATUS#succeeded"),  # unsharded: a shared key of its own
    ],
)
def test_a_written_key_is_abstracted_by_its_pattern(written, pattern):
    assert heat.pattern(written) == pattern


def test_the_design_counts_the_shards_the_service_reads():
    assert (design.STATUS_SHARDS, design.OUTBOX_SHARDS, design.JOURNAL_SHARDS) == (
        shards.STATUS_SHARDS,
        shards.OUTBOX_SHARDS,
        shards.JOURNAL_SHARDS,
    )
