"""`make invoke FUNCTION=<name> EVENT=events/...json`: run one function once against the local stack.

Uses the running `make dev` (or starts one for the run), invokes the function in a fresh worker with the
catalog's environment, and prints its response, its log and the events it put on the bus.

A Stripe event (events/stripe/*.json) given to stripe_webhook is wrapped in the API Gateway request
Stripe would make and signed now with the stack's webhook secret; an API Gateway event for it is
re-signed (a signature older than 5 minutes is refused).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infra import catalog
from infra.local.apigw import build_rest_event
from infra.local.environment import aws_client, function_environment
from infra.local.launcher import LaunchedStack, LaunchError, launch, running
from infra.local.logs import summarize
from infra.local.ports import free_ports
from infra.local.runtime import FunctionPool, InvocationError, code_exists
from infra.local.settings import ROOT, ConfigError, LocalSettings, StackState
from infra.local.tap import EventTap, describe

SIGNATURE = "Stripe-Signature"


def sign(body: bytes, secret: str) -> str:
    from infra.local.stripe_emulator import signature_header

    return signature_header(body, secret, int(time.time()))


def prepare(fn: catalog.Function, event: dict[str, Any], state: StackState) -> dict[str, Any]:
    """The event as it would arrive now: webhooks signed afresh, bus events with their account."""
    route = fn.route
    if route is not None and not route.authorizer:
        if event.get("object") == "event":  # a bare Stripe event: make Stripe's request for it
            body = json.dumps(event).encode()
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                SIGNATURE: sign(body, state.webhook_secret),
            }
            return build_rest_event(route.method, route.path, route.path, headers=headers, body=body)
        raw = event.get("body") or ""
        body = base64.b64decode(raw) if event.get("isBase64Encoded") else str(raw).encode()
        signature = sign(body, state.webhook_secret)
        for field in ("headers", "multiValueHeaders"):
            found: dict[str, Any] = event.get(field) or {}
            for name in [n for n in found if n.lower() == SIGNATURE.lower()]:
                found[name] = signature if field == "headers" else [signature]
        return event
    if fn.subscription is not None:
        event.setdefault("account", "123456789012")
    return event


def show_response(result: Any) -> None:
    if isinstance(result, dict) and "statusCode" in result:
        body = result.get("body") or ""
        if result.get("isBase64Encoded"):
            body = base64.b64decode(body).decode(errors="replace")
        print(f"HTTP {result['statusCode']}")
        for name, value in (result.get("headers") or {}).items():
            print(f"{name}: {value}")
        try:
            print(json.dumps(json.loads(body), indent=2))
        except ValueError:
            print(body)
        return
    print(json.dumps(result, indent=2, default=str))


def show_logs(lines: list[str]) -> None:
    for line in lines:
        try:
            record = json.loads(line) if line.startswith("{") else None
        except ValueError:
            record = None
        print(f"{record.get('timestamp', '')} {summarize(record)}" if isinstance(record, dict) else line)


def invoke_once(fn: catalog.Function, event: dict[str, Any], state: StackState) -> int:
    events, sqs = aws_client("events", state.moto_url), aws_client("sqs", state.moto_url)
    tap = EventTap(events, sqs, name=f"invoke-{uuid.uuid4().hex[:12]}")
    logs: list[str] = []
    pool = FunctionPool(
        lambda f: function_environment(
            f, moto_url=state.moto_url, dynamodb_url=state.dynamodb_url, stripe_api_base=state.stripe_url
        ),
        lambda _name, line: logs.append(line),
        max_per_function=1,
    )
    try:
        invocation = pool.invoke(fn.name, prepare(fn, event, state))
        error = None
    except InvocationError as failure:
        invocation, error = None, failure
    finally:
        pool.stop()
    emitted = tap.poll(wait_seconds=1)
    tap.remove()

    print(f"\n== Response of {fn.name}", end="")
    if invocation is not None:
        print(f" ({invocation.duration_ms:.0f} ms; cold start {invocation.init_ms or 0:.0f} ms)")
        show_response(invocation.result)
    else:
        print(f"\nthe invocation failed: {error}")
    print(f"\n== Logs ({len(logs)} lines)")
    show_logs(logs)
    print(f"\n== Events emitted on the bus ({len(emitted)})")
    for item in emitted:
        print(f"{describe(item)}\n  {json.dumps(item.get('detail'), separators=(',', ':'))[:400]}")
    return 0 if error is None else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make invoke", description="Run one function once against the local stack."
    )
    parser.add_argument("function", nargs="?", help="a function of infra/catalog.py")
    parser.add_argument("event", nargs="?", help="a JSON event file, e.g. events/api/get_payment.json")
    args = parser.parse_args(argv)
    if not args.function or not args.event:
        print("usage: make invoke FUNCTION=<name> EVENT=events/<kind>/<file>.json", file=sys.stderr)
        return 2
    fn = catalog.FUNCTIONS_BY_NAME.get(args.function)
    if fn is None:
        names = ", ".join(catalog.FUNCTIONS_BY_NAME)
        print(f"make invoke: no function {args.function!r}; the catalog has: {names}", file=sys.stderr)
        return 2
    if not code_exists(fn.name):
        print(f"make invoke: functions/{fn.name}/app.py does not exist yet", file=sys.stderr)
        return 2
    path = Path(args.event) if Path(args.event).is_absolute() else ROOT / args.event
    try:
        event = json.loads(path.read_text())
        settings = LocalSettings.from_env()
    except (OSError, ValueError, ConfigError) as error:
        print(f"make invoke: {error}", file=sys.stderr)
        return 2
    return _with_stack(settings, lambda state: invoke_once(fn, event, state))


def _with_stack(settings: LocalSettings, action: Any) -> int:
    state = running(settings.state_dir)
    if state is not None:
        return int(action(state))
    print("make invoke: no local stack is running; starting one for this run...", flush=True)
    with tempfile.TemporaryDirectory(prefix="payments-invoke-") as folder:
        launched: LaunchedStack | None = None
        try:
            launched = launch(Path(folder), Path(folder) / "dev.log", free_ports())
            return int(action(launched.state))
        except LaunchError as error:
            print(f"make invoke: {error}", file=sys.stderr)
            return 1
        finally:
            if launched is not None:
                launched.stop()


if __name__ == "__main__":
    sys.exit(main())
