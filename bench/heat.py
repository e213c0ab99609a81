"""Partition heat: the highest write rate on any partition key of each table and index at the design
rate (10,000 payments a second), against DynamoDB's ~1,000 write units a second per partition key.

The keys are the ones the real calls wrote: the meter records the partition key of every table and
index write with its units (bench/meter.py), abstracted here by `pattern` (ids become `<id>`, dates
`<day>`, a sharded family's suffix `<shard:N>`). The traffic mix is expanded from the measurements as
the cost model does (bench/cost.py): payments, the captures and refunds of a fraction of them
(prices.json, assumptions), each with the webhook deliveries and subscribers they cause, and the
scheduled functions at their schedule.

A key pattern is either shared (no `<id>`: every payment writes the same keys, spread over N shards
at most) or per entity (a payment, an order, a customer, a card): a shared key's rate is the family's
total over its shards, assuming CRC-32 spreads ids evenly (tests/unit/test_ledger_shards.py checks
it does); a per-entity key's rate is what one payment writes to it, assuming no entity starts more
than one payment a second (the velocity limits hold customers and cards far below that).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from infra import catalog

# Ids as the service and Stripe make them (pay_..., cus_..., pm_...), or anything with a digit, a
# hyphen, a dot or a colon in it (order ids, idempotency keys, addresses, fingerprints).
_PREFIXED_ID = re.compile(
    r"^(pay|rfd|cus|pm|pi|ch|re|evt|po|dp|du|txn|seti|src|acct|run|blk|card|fr|issfr)_\w+$"
)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HOUR = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}$")
_WORD = re.compile(r"^[A-Za-z_]{1,24}$")


def pattern(partition_key: str) -> str:
    """`STATUS#succeeded#7` -> `STATUS#succeeded#<shard:32>`, `PAYMENT#pay_x` -> `PAYMENT#<id>`."""
    from payments.adapters.dynamodb.shards import shards_of

    parts = partition_key.split("#")
    shards = shards_of(partition_key)
    out = []
    for position, part in enumerate(parts):
        if shards is not None and position == len(parts) - 1:
            out.append(f"<shard:{shards}>")
        elif _DAY.match(part):
            out.append("<day>")
        elif _HOUR.match(part):
            out.append("<hour>")
        elif _PREFIXED_ID.match(part) or not _WORD.match(part):
            out.append("<id>")
        else:
            out.append(part)
    return "#".join(out)


def shards_in(key_pattern: str) -> int:
    found = re.search(r"<shard:(\d+)>", key_pattern)
    return int(found.group(1)) if found else 1


def per_entity(key_pattern: str) -> bool:
    return "<id>" in key_pattern


def calls_per_second(
    operations: dict[str, Any], prices: dict[str, Any]
) -> tuple[dict[str, float], list[str]]:
    """Invocations per second of every function in the traffic mix at the design rate."""
    from bench import cost

    assume = prices["assumptions"]
    rate = float(assume["heat"]["payments_per_second"])
    starts = {
        "process_payment": rate,
        "capture_payment": rate * float(assume["capture_fraction"]),
        "refund_payment": rate * float(assume["refund_fraction"]),
    }
    calls: dict[str, float] = defaultdict(float)
    notes: list[str] = []
    for start, per_second in starts.items():
        invocations, missing = cost.expand(start, operations, str(assume.get("webhook_events", "subscribed")))
        notes += missing
        for name, count in invocations.items():
            calls[name] += count * per_second
    for fn in catalog.FUNCTIONS:
        if fn.schedule_minutes:
            calls[fn.name] += 1 / (60 * fn.schedule_minutes)
    return dict(calls), sorted(set(notes))


def model(warm: dict[str, Any], prices: dict[str, Any]) -> dict[str, Any]:
    operations = warm["operations"]
    assume = prices["assumptions"]
    rate = float(assume["heat"]["payments_per_second"])
    budget = float(assume["heat"]["budget_wcu_per_key"])
    calls, notes = calls_per_second(operations, prices)
    total: dict[tuple[str, str], float] = defaultdict(float)
    writers: dict[tuple[str, str], set[str]] = defaultdict(set)
    for name, per_second in calls.items():
        op = operations.get(name) or {}
        if "skipped" in op or not op:
            notes.append(f"{name}: no warm measurement; its writes are not counted")
            continue
        for target, keys in op.get("requests", {}).get("writes_by_key_per_call", {}).items():
            for key_pattern, units in keys.items():
                total[(target, key_pattern)] += per_second * float(units)
                writers[(target, key_pattern)].add(name)
    keys = []
    for (target, key_pattern), wcu in sorted(total.items()):
        entity = per_entity(key_pattern)
        shards = shards_in(key_pattern)
        # A per-entity key takes one payment's writes (one payment a second per entity at most).
        hottest = wcu / rate if entity else wcu / shards
        keys.append(
            {
                "target": target,
                "pattern": key_pattern,
                "kind": "per entity" if entity else "shared",
                "shards": None if entity else shards,
                "wcu_per_s": round(wcu, 1),
                "hottest_key_wcu_per_s": round(hottest, 1),
                "within_budget": hottest <= budget,
                "written_by": sorted(writers[(target, key_pattern)]),
            }
        )
    return {
        "payments_per_second": rate,
        "budget_wcu_per_key": budget,
        "calls_per_second": {k: round(v, 3) for k, v in sorted(calls.items())},
        "keys": keys,
        "hottest": hottest_per_target(keys),
        "notes": sorted(set(notes)),
    }


def hottest_per_target(keys: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each table's and index's hottest key."""
    hottest: dict[str, dict[str, Any]] = {}
    for key in keys:
        best = hottest.get(key["target"])
        if best is None or key["hottest_key_wcu_per_s"] > best["hottest_key_wcu_per_s"]:
            hottest[key["target"]] = key
    return hottest


def over_budget(heat: dict[str, Any]) -> list[str]:
    return [
        f"{k['target']} {k['pattern']} ({k['hottest_key_wcu_per_s']:,.0f})"
        for k in heat["keys"]
        if not k["within_budget"]
    ]
