"""`make dev`: the whole service on 127.0.0.1, until Ctrl-C.

Checks every port first (nothing starts if one is taken: exit 2), starts the stack (infra/local/stack.py),
prints the URLs, tokens, the webhook secret and curl examples, logs one line per request, webhook, event
and dispatch, and on Ctrl-C or SIGTERM stops every process it started. Exit 1 if the stack fails.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from infra import catalog
from infra.local import ports
from infra.local.console import Console
from infra.local.gateway import STAGE
from infra.local.runtime import code_exists
from infra.local.settings import ConfigError, LocalSettings, StackState
from infra.local.stack import LocalStack, StartupError
from infra.local.tokens import DEFAULT_SUBS, issue_order_token, issue_token

EXIT_CONFIG = 2
SECOND_CUSTOMER = "bob"


def banner(settings: LocalSettings, state: StackState) -> str:
    api = state.api_url
    site = api.removesuffix(STAGE)
    customer = issue_token(state.jwt_secret, DEFAULT_SUBS["customer"])
    other = issue_token(state.jwt_secret, SECOND_CUSTOMER)
    admin = issue_token(state.jwt_secret, DEFAULT_SUBS["admin"], admin=True)
    service = issue_token(state.jwt_secret, DEFAULT_SUBS["service"], service=True)
    order = issue_order_token("order-1001", 2599, "usd", DEFAULT_SUBS["customer"])
    if state.stripe_url:
        stripe = f"emulator {state.stripe_url} (signed webhooks -> {settings.webhook_url})"
    else:
        stripe = (
            "Stripe test mode. Forward its webhooks here with the Stripe CLI:\n"
            f"                   stripe listen --forward-to {settings.webhook_url}\n"
            "                 and restart with STRIPE_WEBHOOK_SECRET=<the whsec_ it prints>"
        )
    missing = [fn.name for fn in catalog.FUNCTIONS if not code_exists(fn.name)]
    waiting = (
        f"\n  Not written yet: {', '.join(missing)}\n"
        "                 (their routes answer 501; events for them wait in their queues)"
        if missing
        else ""
    )
    body = '{"order_token":"\'"$ORDER_TOKEN"\'","payment_method_id":"pm_card_visa"}'
    service_body = (
        '{"order_id":"order-1002","amount":1250,"currency":"usd","customer_id":"bob",'
        '"payment_method_id":"pm_card_visa"}'
    )
    return f"""
================================================================================
 Payments service, locally (everything on 127.0.0.1; Ctrl-C stops it all)
================================================================================
  API            {api}
  API docs       {api}/docs   (OpenAPI: {api}/openapi.json)
  Console        {site}/console/    (back office: sign in locally as an admin, e.g. backoffice)
  Checkout       {site}/checkout/   (a customer pays a sample order with a test card)
  Stripe         {stripe}
  AWS (moto)     {state.moto_url}   (EventBridge, SQS, Secrets Manager)
  DynamoDB       {state.dynamodb_url}   (moto)
                 aws --endpoint-url {state.dynamodb_url} dynamodb scan --table-name payments
  Logs           {state.log_dir}/functions/<function>.log{waiting}

  Webhook signing secret (STRIPE_WEBHOOK_SECRET): {state.webhook_secret}

  Tokens (12 h; `make -s token ROLE=customer|admin|service SUB=<id>` prints more):
export CUSTOMER_TOKEN={customer}
export OTHER_CUSTOMER_TOKEN={other}
export ADMIN_TOKEN={admin}
export SERVICE_TOKEN={service}

  The Order Service's token for order-1001 (25.99 USD, alice's; customers pay by order token only;
  `make -s order-token ORDER=<id> AMOUNT=<minor units> CURRENCY=<iso> SUB=<customer>` prints more):
export ORDER_TOKEN={order}

  Try it:
curl -s -X POST {api}/payments -H "Authorization: Bearer $CUSTOMER_TOKEN" \\
  -H "Content-Type: application/json" -H "Idempotency-Key: $RANDOM$RANDOM" \\
  -d '{body}'
curl -s -X POST {api}/payments -H "Authorization: Bearer $SERVICE_TOKEN" \\
  -H "Content-Type: application/json" -H "Idempotency-Key: $RANDOM$RANDOM" \\
  -d '{service_body}'
curl -s {api}/payments -H "Authorization: Bearer $CUSTOMER_TOKEN"
curl -s {api}/payments/<payment id> -H "Authorization: Bearer $CUSTOMER_TOKEN"
curl -s -X POST {api}/payments/<payment id>/refunds -H "Authorization: Bearer $ADMIN_TOKEN" \\
  -H "Content-Type: application/json" -H "Idempotency-Key: $RANDOM$RANDOM" -d '{{"amount":500}}'

  Every flow, step by step:  make demo
  One function, once:        make invoke FUNCTION=get_payment EVENT=events/api/get_payment.json
================================================================================
"""


def main() -> int:
    console = Console()
    try:
        settings = LocalSettings.from_env()
    except ConfigError as error:
        console.text(f"make dev: {error}")
        return EXIT_CONFIG
    problems = ports.busy(settings.ports())
    if problems:
        previous = StackState.load(settings.state_file)
        if previous and previous.runner_alive():
            problems.append(
                f"make dev is already running (pid {previous.runner_pid}): use it, or stop it first"
            )
        console.text("make dev: " + "\nmake dev: ".join(problems) + "\nNothing was started.")
        return EXIT_CONFIG

    stack = LocalStack(settings, console)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        console.line("stack", f"{signal.Signals(signum).name}: stopping everything")
        stack.request_stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        state = stack.start()
    except StartupError as error:
        console.line("stack", f"could not start: {error}. Everything started was stopped.", "error")
        return 1
    console.text(banner(settings, state))
    console.line("stack", "ready")
    code = stack.wait()
    stack.stop()
    console.line("stack", "stopped; no process left running")
    return code


if __name__ == "__main__":
    sys.exit(main())
