"""Warm latency and requests per operation, in-process: `python -m bench.warm <spec.json> <result.json>`.

One interpreter runs every operation's handler directly (no HTTP) under moto's in-process mock, with the
Stripe emulator in the parent process. Per operation: one untimed first call (its requests are the cold
container's, recorded apart), `calls` timed calls, then a few more with full request accounting (kept out
of the timed ones: the look-ups that price each write would add to the latency being measured).

Latency here is the handler plus moto and the emulator answering in microseconds to milliseconds; "own"
latency subtracts the time spent waiting on them, which is what our code costs per call. Each operation
starts from empty tables and a reset emulator, and moto's transactions back up only the items they touch
(infra/local/moto_patches.py): moto would otherwise copy whole tables per transaction and slow down as
items pile up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench import common
from bench.common import ROOT, summarize
from infra import catalog
from infra.local.resources import function_environment

CHILD_TIMEOUT_S = 3600


# ---------------------------------------------------------------------- parent side


def measure(functions: list[catalog.Function], *, calls: int, detailed: int, tracing: bool) -> dict[str, Any]:
    from bench.stubs import start_emulator

    ops = [fn.name for fn in functions]
    emulator = start_emulator()
    try:
        env = common.child_environment(common.lambda_like("bench-warm", 1024, tracing))
        for fn in catalog.FUNCTIONS:  # one interpreter runs them all: the union of their variables
            env.update(function_environment(fn))
        env["STRIPE_API_BASE"] = emulator.url
        spec = {
            "ops": ops,
            "calls": calls,
            "detailed": detailed,
            "stripe_url": emulator.url,
            "tracing": tracing,
        }
        common.CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="bench-warm-") as tmp:
            spec_path, result_path = Path(tmp) / "spec.json", Path(tmp) / "result.json"
            spec_path.write_text(json.dumps(spec))
            log_path = common.CACHE / "warm.log"
            with log_path.open("w") as log_file:
                completed = subprocess.run(  # noqa: S603 - our own interpreter and module
                    [sys.executable, "-m", "bench.warm", str(spec_path), str(result_path)],
                    env=env,
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,  # function logs and EMF metrics
                    stderr=log_file,
                    timeout=CHILD_TIMEOUT_S,
                    check=False,
                )
            if completed.returncode != 0 or not result_path.exists():
                tail = "\n".join(log_path.read_text().splitlines()[-15:])
                raise RuntimeError(
                    f"the warm run failed (exit {completed.returncode}), bench/.cache/warm.log:\n{tail}"
                )
            result: dict[str, Any] = json.loads(result_path.read_text())
    finally:
        emulator.stop()
    return {"calls": calls, "detailed_calls": detailed, "tracing": tracing, "operations": result}


# ---------------------------------------------------------------------- child side


def _signature(requests: list[Any]) -> tuple[str, ...]:
    return tuple(r.name for r in requests)


def _aggregate(detailed: list[list[Any]]) -> dict[str, Any]:
    """Requests per call: the usual sequence, counts and units averaged over the detailed calls."""
    if not detailed:
        return {}
    usual = Counter(_signature(call) for call in detailed).most_common(1)[0][0]
    representative = next(call for call in detailed if _signature(call) == usual)
    n = len(detailed)
    counts: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    published: Counter[str] = Counter()
    heat: dict[str, Counter[str]] = {}
    for call in detailed:
        for request in call:
            for target, pattern, units in request.writes_by_key:
                heat.setdefault(target, Counter())[pattern] += units
            counts[f"{request.service}:{request.operation}"] += 1
            totals[f"{request.service}.requests"] += 1
            totals["dynamodb.read_units"] += request.read_units
            totals["dynamodb.write_units"] += request.write_units
            totals["dynamodb.index_write_units"] += request.index_write_units
            totals["events.entries"] += request.event_entries
            totals["events.chunks"] += request.event_chunks
            totals["dynamodb.rereads"] += request.reread
            totals["dynamodb.reads_of_own_writes"] += request.read_own_write
            published.update(request.event_types)
    return {
        "per_call": {k: round(v / n, 2) for k, v in sorted(counts.items())},
        "totals_per_call": {k: round(v / n, 3) for k, v in sorted(totals.items())},
        "published_per_call": {k: round(v / n, 2) for k, v in sorted(published.items())},
        # write units per call by table (or table/index) and partition key pattern (bench/heat.py)
        "writes_by_key_per_call": {
            target: {k: round(v / n, 3) for k, v in sorted(keys.items())}
            for target, keys in sorted(heat.items())
        },
        "variants": len({_signature(call) for call in detailed}),
        "sequence": [r.as_dict() for r in representative],
    }


def _run_op(world: Any, meter: Any, op: str, *, calls: int, detailed: int, tracing: bool) -> dict[str, Any]:
    from bench.probe import Context, status_of
    from bench.scenarios import SCENARIOS, SetupFailed
    from payments import services

    scenario = SCENARIOS.get(op)
    if scenario is None:
        return {"skipped": "no scenario for this function"}
    fn = catalog.function(op)
    world.customer = f"{common.CUSTOMER}_{op}"
    services.reset()  # forget cached clients, secrets and settings: the first call is a fresh container's
    events = scenario(world)
    try:
        first_event = next(events)
        handler = world.handler(op)
    except Exception as error:
        return {"skipped": f"setup failed: {type(error).__name__}: {error}"}

    def invoke(event: dict[str, Any], detailed_requests: bool) -> tuple[str, float, list[Any]]:
        context = Context(op, fn.memory_mb)
        if tracing:  # Lambda sets a new trace header per invocation
            os.environ["_X_AMZN_TRACE_ID"] = (
                f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=1"
            )
        with meter.recording(detailed=detailed_requests) as requests:
            started = time.perf_counter()
            result = handler(event, context)
            elapsed = (time.perf_counter() - started) * 1000
        return status_of(result), elapsed, requests

    first_status, first_ms, first_requests = invoke(first_event, True)
    statuses: Counter[str] = Counter()
    latencies, own, io = [], [], []
    try:
        for _ in range(calls):
            event = next(events)  # setup for this call, untimed
            status, elapsed, requests = invoke(event, False)
            waited = sum(r.io_ms for r in requests)
            statuses[status] += 1
            latencies.append(elapsed)
            io.append(waited)
            own.append(elapsed - waited)
        details = []
        stripe_events: Counter[str] = Counter()
        for _ in range(detailed):
            event = next(events)
            seen = world.stripe_event_ids()
            status, _elapsed, requests = invoke(event, True)
            stripe_events.update(t for i, t in world.stripe_event_ids().items() if i not in seen)
            statuses[status] += 1
            details.append(requests)
    except SetupFailed as error:
        return {"skipped": f"setup failed during the run: {error}"}
    return {
        "statuses": dict(statuses),
        "latency_ms": summarize(latencies),
        "own_ms": summarize(own),
        "io_ms": summarize(io),
        "first_call": {
            "status": first_status,
            "ms": round(first_ms, 2),
            "requests": [r.name for r in first_requests],
        },
        "requests": _aggregate(details),
        # Events Stripe emitted because of one call: each is a webhook delivery if the endpoint wants it.
        "stripe_events_per_call": {
            k: round(v / max(1, detailed), 2) for k, v in sorted(stripe_events.items())
        },
    }


def child(spec: dict[str, Any]) -> dict[str, Any]:
    from bench.meter import Meter

    meter = Meter(spec["stripe_url"])
    meter.install()  # before any boto3 session exists

    import boto3
    from moto import mock_aws

    from bench.scenarios import World
    from bench.stubs import provision
    from infra.local.moto_patches import cheap_transaction_backups

    cheap_transaction_backups()
    results: dict[str, Any] = {}
    for op in spec["ops"]:
        started = time.perf_counter()
        # Each operation starts from empty tables and a fresh Stripe, so one does not slow the next.
        with mock_aws():
            provision(boto3.client)
            meter.published.clear()
            world = World(spec["stripe_url"], meter.published)
            world.stripe("POST", "/_emulator/reset")
            results[op] = _run_op(
                world,
                meter,
                op,
                calls=int(spec["calls"]),
                detailed=int(spec["detailed"]),
                tracing=bool(spec["tracing"]),
            )
        note = results[op].get("skipped") or f"p50 {results[op]['latency_ms']['p50']:.1f} ms"
        print(f"warm {op}: {note} ({time.perf_counter() - started:.1f} s)", file=sys.stderr, flush=True)
    return results


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[1]).read_text())
    Path(argv[2]).write_text(json.dumps(child(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
