"""What every part of the harness shares: paths, the functions under test, sample events, environments."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra import catalog

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "layers" / "core" / "python"
EVENTS = ROOT / "events"
CACHE = ROOT / "bench" / ".cache"
HOST = "127.0.0.1"
REGION = "us-east-1"
ACCOUNT = "123456789012"

REFERENCE = "reference"  # the conventional handler every cold start is compared with

STRIPE_KEY = "sk_test_bench"
WEBHOOK_SECRET = "whsec_bench_only_not_a_real_secret"  # noqa: S105 - signs local test events only
CUSTOMER = "cus_bench"
ADMIN = "admin_bench"

# An X-Ray daemon address nothing listens on: the SDK sends UDP and never waits for an answer.
XRAY_DAEMON = "127.0.0.1:2999"
TRACE_ID = "Root=1-67a1b2c3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"


def log(message: str) -> None:
    """Progress goes to stderr so stdout keeps only the table."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def order_id(prefix: str = "order") -> str:
    """A unique order id without digits: the API's card-number guard refuses bodies holding 13-19 digit
    runs that pass Luhn, which random hex ids produce about once in a thousand."""
    return f"{prefix}-" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:20])


# ----------------------------------------------------------------------------- sample events


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def rules_letting_payments_through() -> dict[str, Any]:
    """The default risk rules with velocity and card-testing limits that a load of payments, of one
    customer from one address, never reaches: what the bench and the e2e session store, since they
    measure and test payments that go through (docs/risk.md, Checks before Stripe)."""
    from payments.domain.risk_rules import MAX_LIMIT, RiskRules

    rules = RiskRules().model_dump(mode="json")
    for limits in (*rules["velocity"].values(), *rules["card_testing"].values()):
        limits.update({name: MAX_LIMIT for name in limits if name.startswith("max_")})
    return rules


def api_sample(name: str) -> dict[str, Any] | None:
    path = EVENTS / "api" / f"{name}.json"
    return _load(path) if path.is_file() else None


def stripe_sample(event_type: str) -> dict[str, Any] | None:
    """events/stripe/<type>.json: a Stripe event object as Stripe sends it to the webhook."""
    path = EVENTS / "stripe" / f"{event_type}.json"
    return _load(path) if path.is_file() else None


def bus_sample_for(subscription: catalog.Subscription) -> tuple[dict[str, Any] | None, str]:
    """An event the subscription's rule matches: a domain event from events/bus/<type>.json, or a Stripe
    event from events/stripe/<type>.json in the envelope the webhook's PutEvents gives it."""
    for detail_type in subscription.detail_types:
        if subscription.source == catalog.STRIPE_EVENT_SOURCE:
            stripe_event = stripe_sample(detail_type)
            if stripe_event is not None:
                envelope = bus_envelope(catalog.STRIPE_EVENT_SOURCE, detail_type, stripe_event)
                return envelope, f"events/stripe/{detail_type}.json on the bus"
        else:
            path = EVENTS / "bus" / f"{detail_type}.json"
            if path.is_file():
                return _load(path), f"events/bus/{detail_type}.json"
    return None, "no sample in events/bus or events/stripe matching its rule yet"


def bus_envelope(source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge event as a rule hands it to a Lambda target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def scheduled_event(fn: catalog.Function) -> dict[str, Any]:
    """What an EventBridge schedule delivers to a timer function."""
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{fn.name}-schedule"
    return {**bus_envelope("aws.events", "Scheduled Event", {}), "resources": [rule]}


def stripe_signature(payload: str) -> str:
    """Stripe-Signature header value (scheme v1), as Stripe computes it, signed now."""
    import hashlib
    import hmac

    at = int(time.time())
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def webhook_event(stripe_event: dict[str, Any]) -> dict[str, Any]:
    """The API Gateway event of Stripe delivering `stripe_event` to our webhook route, signed now."""
    from infra.local.apigw import build_rest_event

    fn = catalog.function("stripe_webhook")
    assert fn.route is not None
    payload = json.dumps(stripe_event, separators=(",", ":"))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "Stripe-Signature": stripe_signature(payload),
    }
    return build_rest_event("POST", fn.route.path, fn.route.path, headers=headers, body=payload)


def first_event(fn: catalog.Function) -> tuple[dict[str, Any] | None, str]:
    """The event of a function's first (cold) invocation, or None and why there is none."""
    if fn.name == "stripe_webhook":
        sample = stripe_sample("payment_intent.succeeded")
        if sample is None:
            return None, "no events/stripe/payment_intent.succeeded.json sample yet"
        return webhook_event(sample), "events/stripe/payment_intent.succeeded.json, signed"
    if fn.route is not None:
        sample = api_sample(fn.name)
        return (sample, f"events/api/{fn.name}.json") if sample else (None, "no events/api sample")
    if fn.subscription is not None:
        return bus_sample_for(fn.subscription)
    return scheduled_event(fn), "scheduled event"


# ----------------------------------------------------------------------------- environments


def fake_aws() -> dict[str, str]:
    """The local stack's fake account (never the developer's credentials), and no metadata probing."""
    from infra.local.environment import FAKE_AWS

    return {**FAKE_AWS, "AWS_EC2_METADATA_DISABLED": "true"}


def lambda_like(name: str, memory_mb: int, tracing: bool) -> dict[str, str]:
    """What the Lambda runtime and our CDK stack put in a function's environment (infra/aws/functions.py):
    metrics on, INFO logs, and with active tracing the X-Ray variables that switch Tracer on."""
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "STAGE": "bench",
        "POWERTOOLS_SERVICE_NAME": catalog.SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": catalog.METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        "STRIPE_MAX_NETWORK_RETRIES": "0",
        "OUTBOX_MIN_AGE_SECONDS": "0",
    }
    if tracing:
        env.update(
            {
                "AWS_XRAY_DAEMON_ADDRESS": XRAY_DAEMON,
                "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
                "LAMBDA_TASK_ROOT": str(ROOT),
                "_X_AMZN_TRACE_ID": TRACE_ID,
            }
        )
    else:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    return env


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    """A clean interpreter environment: nothing from the caller's shell leaks into a measurement."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(CORE)]),
        "PYTHONHASHSEED": "0",
        **fake_aws(),
    }
    env.update(extra)
    return env


# ----------------------------------------------------------------------------- statistics


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): the value below which q% of samples fall."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summarize(values: list[float]) -> dict[str, float]:
    """n, p50, p99, mean, min and max, as the results file keeps them (NaN for no values)."""
    if not values:
        nan = float("nan")
        return {"n": 0, "p50": nan, "p99": nan, "mean": nan, "min": nan, "max": nan}
    stats = {
        "p50": statistics.median(values),
        "p99": percentile(values, 99),
        "mean": statistics.fmean(values),
        "min": min(values),
        "max": max(values),
    }
    return {"n": len(values), **{name: round(value, 3) for name, value in stats.items()}}
