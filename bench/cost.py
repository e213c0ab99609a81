"""Cost per million payments (a tenth of them refunded), from the measured requests and durations.

The workload is expanded from the measurements, not written by hand: a payment is one ProcessPayment
call; each Stripe event its Stripe call caused becomes a webhook delivery (when the endpoint subscribes
to that type); each event put on the bus (by the webhook or a domain event) invokes the subscribers
whose catalog rule matches, and their own events are followed in turn. A refund is the same from one
RefundPayment call.

Lambda duration is priced twice: with the warm p50 measured here (moto and the emulator answer in
about a millisecond, real Stripe in hundreds), and with an estimate for production: our own time
plus the assumed latency of each request the operation makes (prices.json, "assumptions").
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from infra import catalog

PRICES = Path(__file__).resolve().parent / "prices.json"
MAX_DEPTH = 4  # payment -> webhook -> subscriber -> its events -> ...
# Lambda duration's two prices (module docstring): the total counts the production estimate.
MEASURED_DURATION = "Lambda GB-s arm64 (measured warm p50)"
PRODUCTION_DURATION = "Lambda GB-s arm64 (production latencies)"


def load_prices() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PRICES.read_text())
    return data


def _price(prices: dict[str, Any], name: str) -> float:
    entry = prices["prices"][name]
    return float(entry["usd"]) / float(entry["per"])


def _subscribers(source: str, detail_type: str) -> list[str]:
    return [
        fn.name
        for fn in catalog.subscribers()
        if fn.subscription
        and fn.subscription.source == source
        and detail_type in fn.subscription.detail_types
    ]


def _subscribed_stripe_types() -> set[str]:
    return {
        t
        for fn in catalog.subscribers()
        if fn.subscription and fn.subscription.source == "stripe"
        for t in fn.subscription.detail_types
    }


Counts = dict[str, float]  # function -> invocations (fractions: 10% of payments are refunded)


def expand(start: str, operations: dict[str, Any], webhook_events: str) -> tuple[Counts, list[str]]:
    """Invocations per function caused by one call of `start`, following events down the chain."""
    invocations: Counts = defaultdict(float)
    notes: list[str] = []
    wanted = _subscribed_stripe_types()
    frontier: Counts = {start: 1.0}
    for _depth in range(MAX_DEPTH):
        following: Counts = defaultdict(float)
        for name, count in frontier.items():
            invocations[name] += count
            op = operations.get(name) or {}
            if "skipped" in op or not op:
                notes.append(f"{name}: no warm measurement; what it causes is not counted")
                continue
            if name == "stripe_webhook":
                continue  # handled where the delivery is created: it forwards the delivered type
            for stripe_type, per_call in op.get("stripe_events_per_call", {}).items():
                if webhook_events == "subscribed" and stripe_type not in wanted:
                    continue
                following["stripe_webhook"] += count * per_call
                for subscriber in _subscribers(catalog.STRIPE_EVENT_SOURCE, stripe_type):
                    following[subscriber] += count * per_call
            for key, per_call in op.get("requests", {}).get("published_per_call", {}).items():
                source, _, detail_type = key.partition("|")
                for subscriber in _subscribers(source, detail_type):
                    following[subscriber] += count * per_call
        frontier = following
        if not frontier:
            break
    return invocations, sorted(set(notes))


# Lambda gives a function one full vCPU at 1,769 MB and a share in proportion below; our own time was
# measured on a full core here, so the production estimate stretches it by that share.
FULL_VCPU_MB = 1769


def _duration_ms(op: dict[str, Any], latency: dict[str, float], production: bool, memory_mb: int) -> float:
    if not production:
        return float(op["latency_ms"]["p50"])
    total = float(op["own_ms"]["p50"]) * max(1.0, FULL_VCPU_MB / memory_mb)
    for request, per_call in op.get("requests", {}).get("per_call", {}).items():
        service = request.split(":", 1)[0]
        total += per_call * float(latency.get(request, latency.get(service, 0.0)))
    return total


def model(warm: dict[str, Any], cold: dict[str, Any] | None, prices: dict[str, Any]) -> dict[str, Any]:
    operations = warm["operations"]
    assume = prices["assumptions"]
    payments = float(assume["payments"])
    refunds = payments * float(assume["refund_fraction"])
    webhook_events = str(assume.get("webhook_events", "subscribed"))
    totals: dict[str, Any] = {}
    for mode in ("subscribed", "all"):
        per_payment, notes = expand("process_payment", operations, mode)
        per_refund, refund_notes = expand("refund_payment", operations, mode)
        invocations: Counts = defaultdict(float)
        for name, count in per_payment.items():
            invocations[name] += count * payments
        for name, count in per_refund.items():
            invocations[name] += count * refunds
        totals[mode] = _price_invocations(invocations, operations, cold, prices, notes + refund_notes)
    chosen: dict[str, Any] = totals[webhook_events]
    chosen["alternatives"] = alternatives(chosen, operations, prices)
    chosen["webhook_events"] = webhook_events
    chosen["total_if_all_stripe_events_usd"] = totals["all"]["total_usd"]
    chosen["assumptions"] = assume
    chosen["prices_as_of"] = prices.get("as_of")
    chosen["region"] = prices.get("region")
    return chosen


def _price_invocations(
    invocations: Counts,
    operations: dict[str, Any],
    cold: dict[str, Any] | None,
    prices: dict[str, Any],
    notes: list[str],
) -> dict[str, Any]:
    assume = prices["assumptions"]
    latency = {k: float(v) for k, v in assume["production_latency_ms"].items()}
    api_requests = sum(n for name, n in invocations.items() if catalog.function(name).route)
    lambda_requests = sum(invocations.values())
    gb_s = {"measured": 0.0, "production": 0.0, "init": 0.0}
    rru = wru = events = xray = restored_gb = 0.0
    per_function: dict[str, Any] = {}
    for name, count in sorted(invocations.items()):
        fn = catalog.function(name)
        op = operations.get(name) or {}
        memory_gb = fn.memory_mb / 1024
        row: dict[str, Any] = {"invocations": round(count), "memory_mb": fn.memory_mb}
        if "latency_ms" in op:
            measured = _duration_ms(op, latency, production=False, memory_mb=fn.memory_mb)
            production = _duration_ms(op, latency, production=True, memory_mb=fn.memory_mb)
            totals = op.get("requests", {}).get("totals_per_call", {})
            gb_s["measured"] += count * measured / 1000 * memory_gb
            gb_s["production"] += count * production / 1000 * memory_gb
            rru += count * float(totals.get("dynamodb.read_units", 0))
            wru += count * (
                float(totals.get("dynamodb.write_units", 0))
                + float(totals.get("dynamodb.index_write_units", 0))
            )
            events += count * float(totals.get("events.chunks", 0))
            row.update(duration_ms_measured=round(measured, 1), duration_ms_production=round(production, 1))
        if name == "stripe_webhook" and "latency_ms" not in op:
            events += count  # it forwards each delivery even if it was not measured
        cold_starts = count * float(assume["cold_start_fraction"])
        init_ms = _cold_ms(cold, name)
        if fn.snapstart:
            restored_gb += cold_starts * memory_gb  # a restore replaces INIT (billed per GB restored)
        elif init_ms is not None:
            gb_s["init"] += cold_starts * init_ms / 1000 * memory_gb
        xray += count * float(assume["xray_sampled_fraction"])
        per_function[name] = row
    secrets_calls = _secrets_calls(invocations, operations, prices)
    # Each SnapStart function keeps a snapshot of its published version for as long as the workload runs.
    wall_seconds = float(assume["payments"]) / float(assume["payments_per_second"])
    cached_gb_s = sum(fn.memory_mb / 1024 * wall_seconds for fn in catalog.FUNCTIONS if fn.snapstart)
    lines = {
        "API Gateway (REST)": api_requests * _price(prices, "api_gateway_rest_request"),
        "WAF (requests inspected)": api_requests * _price(prices, "waf_request"),
        "Lambda requests": lambda_requests * _price(prices, "lambda_request"),
        MEASURED_DURATION: gb_s["measured"] * _price(prices, "lambda_gb_second_arm64"),
        PRODUCTION_DURATION: gb_s["production"] * _price(prices, "lambda_gb_second_arm64"),
        "Lambda INIT GB-s (cold-start fraction)": gb_s["init"] * _price(prices, "lambda_gb_second_arm64"),
        "Lambda SnapStart restores (cold-start fraction)": restored_gb
        * _price(prices, "lambda_snapstart_restore_gb"),
        "Lambda SnapStart cache (catalog's SnapStart functions)": cached_gb_s
        * _price(prices, "lambda_snapstart_cache_gb_second"),
        "DynamoDB read request units": rru * _price(prices, "dynamodb_read_request_unit"),
        "DynamoDB write request units (incl. indexes)": wru * _price(prices, "dynamodb_write_request_unit"),
        "EventBridge custom events": events * _price(prices, "eventbridge_custom_event"),
        "Secrets Manager calls (cached)": secrets_calls * _price(prices, "secrets_manager_api_call"),
        "X-Ray traces (sampled)": xray * _price(prices, "xray_trace_recorded"),
    }
    # The total uses the production duration estimate; the measured one is shown beside it.
    counted = {k: v for k, v in lines.items() if k != MEASURED_DURATION}
    return {
        "usd": {k: round(v, 2) for k, v in lines.items()},
        "total_usd": round(sum(counted.values()), 2),
        "total_with_measured_duration_usd": round(
            sum(v for k, v in lines.items() if k != PRODUCTION_DURATION), 2
        ),
        "quantities": {
            "api_requests": round(api_requests),
            "lambda_invocations": round(lambda_requests),
            "gb_seconds_measured": round(gb_s["measured"], 1),
            "gb_seconds_production": round(gb_s["production"], 1),
            "gb_seconds_init": round(gb_s["init"], 1),
            "snapstart_gb_restored": round(restored_gb, 1),
            "snapstart_cache_gb_seconds": round(cached_gb_s),
            "read_request_units": round(rru),
            "write_request_units": round(wru),
            "eventbridge_events": round(events),
            "secrets_manager_calls": round(secrets_calls),
        },
        "per_function": per_function,
        "notes": notes,
    }


def _cold_ms(cold: dict[str, Any] | None, name: str) -> float | None:
    if not cold:
        return None
    entry = cold.get("functions", {}).get(name)
    if not entry:
        return None
    stats = entry["modes"].get("isolated") or next(iter(entry["modes"].values()))
    value = float(stats["total_ms"]["p50"])
    return None if math.isnan(value) else value  # NaN: no successful sample


def _secrets_calls(invocations: Counts, operations: dict[str, Any], prices: dict[str, Any]) -> float:
    """Each warm container reads each of its secrets once per cache period; containers needed at the
    assumed rate are the invocations in flight (rate x duration), at least one."""
    assume = prices["assumptions"]
    rate = float(assume["payments_per_second"])
    period = float(assume["secrets_max_age_seconds"])
    wall_seconds = float(assume["payments"]) / rate
    calls = 0.0
    for name, count in invocations.items():
        fn = catalog.function(name)
        if not fn.secrets:
            continue
        op = operations.get(name) or {}
        duration_s = float(op.get("latency_ms", {}).get("p50", 100.0)) / 1000
        containers = max(1, math.ceil(count / wall_seconds * duration_s))
        calls += containers * len(fn.secrets) * wall_seconds / period
    return calls


def alternatives(
    chosen: dict[str, Any], operations: dict[str, Any], prices: dict[str, Any]
) -> list[dict[str, Any]]:
    """What the total would be with each design not taken, from the same measurements (USD per the
    workload's payments; negative: cheaper)."""
    latency = {k: float(v) for k, v in prices["assumptions"]["production_latency_ms"].items()}
    gb_second = _price(prices, "lambda_gb_second_arm64")
    rows: list[dict[str, Any]] = []

    # DynamoDB Streams + EventBridge Pipes instead of the outbox: no outbox index, no mark to clear, no
    # PutEvents from the function; the pipe reads the table's stream, keeps the EVENT# inserts and puts
    # them on the bus (billed as custom events, as PutEvents is, plus the pipe's own requests).
    streams = 0.0
    for name, row in chosen["per_function"].items():
        op = operations.get(name) or {}
        requests = op.get("requests") or {}
        outbox = sum(requests.get("writes_by_key_per_call", {}).get("payments/outbox", {}).values())
        if not outbox:
            continue
        marks = [
            r
            for r in requests.get("sequence", [])
            if (r["service"], r["operation"], r["target"]) == ("dynamodb", "UpdateItem", "payments")
        ]
        events = sum(
            v for k, v in requests.get("published_per_call", {}).items() if k.startswith("payments|")
        )
        count, memory_gb = float(row["invocations"]), float(row["memory_mb"]) / 1024
        saved_ms = len(marks) * latency["dynamodb"] + latency["events"]
        streams -= (
            count
            * (outbox + sum(r["write_units"] for r in marks))
            * _price(prices, "dynamodb_write_request_unit")
        )
        streams -= count * saved_ms / 1000 * memory_gb * gb_second
        streams += count * events * _price(prices, "eventbridge_pipes_request")
        # Every write of the table is a stream record; one GetRecords reads up to 1,000 (100 assumed).
        table_writes = sum(requests.get("writes_by_key_per_call", {}).get("payments", {}).values())
        streams += count * table_writes / 100 * _price(prices, "dynamodb_streams_read_request")
    rows.append(
        {
            "alternative": "DynamoDB Streams + EventBridge Pipes instead of the outbox",
            "usd_delta": round(streams, 2),
        }
    )

    # An HTTP API instead of the REST API: cheaper requests, but no WAF (so no WAF line either).
    api_requests = float(chosen["quantities"]["api_requests"])
    http = api_requests * (
        _price(prices, "api_gateway_http_request") - _price(prices, "api_gateway_rest_request")
    )
    rows.append(
        {
            "alternative": "HTTP API instead of REST (and so no WAF)",
            "usd_delta": round(http - chosen["usd"]["WAF (requests inspected)"], 2),
        }
    )

    # ProcessPayment at 256 MB: it mostly waits on Stripe; its own time stretches with the CPU share.
    row = chosen["per_function"].get("process_payment")
    op = operations.get("process_payment") or {}
    if row and "latency_ms" in op:
        now = row["duration_ms_production"] / 1000 * row["memory_mb"] / 1024
        smaller = _duration_ms(op, latency, production=True, memory_mb=256) / 1000 * 256 / 1024
        restores = float(prices["assumptions"]["cold_start_fraction"]) * (256 - row["memory_mb"]) / 1024
        delta = row["invocations"] * (
            (smaller - now) * gb_second + restores * _price(prices, "lambda_snapstart_restore_gb")
        )
        rows.append({"alternative": "ProcessPayment at 256 MB", "usd_delta": round(delta, 2)})
    for alternative in rows:
        alternative["total_usd"] = round(chosen["total_usd"] + alternative["usd_delta"], 2)
    return rows
