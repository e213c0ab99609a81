"""The service catalog: every table, secret, function, route and event pattern, as plain data.

Both the CDK stack (infra/aws) and the local stack (infra/local) are built from this module, so the
deployed service and the one on a laptop cannot disagree. No CDK or boto3 import here on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

SERVICE_NAME = "payments"
METRICS_NAMESPACE = "Payments"
API_STAGE = "v1"
EVENT_BUS = "payments"
EVENT_BUS_ENV = "EVENT_BUS_NAME"
DOMAIN_EVENT_SOURCE = "payments"
STRIPE_EVENT_SOURCE = "stripe"
# Members of this Cognito group are admins; routes flagged admin_only are theirs alone (the functions get
# both in their environment, see `environment`).
ADMIN_GROUP = "payments-admin"
# The AWS APIs the functions call (boto3 clients). The deployed botocore keeps only these service models.
AWS_SERVICES: tuple[str, ...] = ("dynamodb", "events", "secretsmanager")
# API Gateway base64-encodes only these content types. None: every body stays text, so Stripe's webhook
# body reaches the function byte for byte as sent (its signature covers the raw body).
BINARY_MEDIA_TYPES: tuple[str, ...] = ()


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str | None = None


@dataclass(frozen=True)
class Table:
    name: str  # logical name; the physical name comes from the environment variable below
    env: str
    partition_key: str = "pk"
    sort_key: str | None = "sk"
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    description: str = ""


PAYMENTS = Table(
    name="payments",
    env="PAYMENTS_TABLE",
    indexes=(
        Index("by_customer", "customer_pk", "created_sk"),
        Index("by_status", "status_pk", "created_sk"),
        # Sparse: only events not yet published carry outbox_pk, so the relay reads just the backlog.
        Index("outbox", "outbox_pk", "occurred_at"),
    ),
    description="Payment aggregate: STATE read model, EVENT# history/outbox, REFUND# items, ORDER# claims",
)
PAYMENT_METHODS = Table(
    name="payment_methods",
    env="PAYMENT_METHODS_TABLE",
    description="Saved payment methods and each customer's Stripe customer id",
)
LEDGER = Table(
    name="ledger",
    env="LEDGER_TABLE",
    description="Double-entry journal: one entry per source event id; balances per account and currency",
)
IDEMPOTENCY = Table(
    name="idempotency",
    env="IDEMPOTENCY_TABLE",
    partition_key="id",
    sort_key=None,
    ttl_attribute="expiration",
    description="Powertools idempotency records (API requests and Stripe event ids)",
)
RECONCILIATION = Table(
    name="reconciliation",
    env="RECONCILIATION_TABLE",
    # Sparse: only SUMMARY items carry runs_pk, so the listing reads runs, newest first, and nothing else.
    indexes=(Index("runs", "runs_pk", "started_sk"),),
    description="Reconciliation runs against Stripe: RUN#<id> SUMMARY and DIFF#<n> difference items",
)
TABLES: tuple[Table, ...] = (PAYMENTS, PAYMENT_METHODS, LEDGER, IDEMPOTENCY, RECONCILIATION)


# --------------------------------------------------------------------------- secrets


@dataclass(frozen=True)
class Secret:
    name: str  # the Secrets Manager name, also used by the local stack
    env: str
    description: str
    generated: bool = False  # True: CDK generates the value; False: ops fill it in after deploy


STRIPE_API_KEY = Secret(
    "payments/stripe-api-key", "STRIPE_API_KEY_SECRET", "Stripe secret API key (sk_live_... / sk_test_...)"
)
STRIPE_WEBHOOK_SECRETS = Secret(
    "payments/stripe-webhook-secrets",
    "STRIPE_WEBHOOK_SECRET_NAME",
    'Stripe webhook signing secrets as JSON: {"current": "whsec_...", "previous": "whsec_..."}',
)
CURSOR_KEY = Secret(
    "payments/cursor-signing-key", "CURSOR_KEY_SECRET", "HMAC key that signs list cursors", generated=True
)
SECRETS: tuple[Secret, ...] = (STRIPE_API_KEY, STRIPE_WEBHOOK_SECRETS, CURSOR_KEY)


# --------------------------------------------------------------------------- access


class Access(Enum):
    """What a function may do to a table. CDK turns each level into exact IAM actions."""

    READ = "read"
    WRITE = "write"  # write-only (never used alone by API functions, kept for the ledger writer)
    READ_WRITE = "read_write"


TABLE_ACTIONS: dict[Access, tuple[str, ...]] = {
    Access.READ: ("dynamodb:GetItem", "dynamodb:Query"),
    Access.WRITE: ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"),
    Access.READ_WRITE: (
        "dynamodb:GetItem",  # also what TransactGetItems needs
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
    ),
}


# --------------------------------------------------------------------------- functions


@dataclass(frozen=True)
class Route:
    method: Literal["GET", "POST", "DELETE"]
    path: str  # below the stage, e.g. "/payments/{payment_id}"
    authorizer: bool = True  # False only for Stripe's webhook
    admin_only: bool = False


@dataclass(frozen=True)
class Subscription:
    """An EventBridge rule on the payments bus that targets the function."""

    source: str
    detail_types: tuple[str, ...]

    def pattern(self) -> dict[str, list[str]]:
        return {"source": [self.source], "detail-type": list(self.detail_types)}


@dataclass(frozen=True)
class Function:
    name: str  # folder under functions/ and the Lambda's logical name
    description: str
    route: Route | None = None
    subscription: Subscription | None = None
    schedule_minutes: int | None = None
    tables: dict[Table, Access] = field(default_factory=dict)
    secrets: tuple[Secret, ...] = ()
    # The one `source` the function may put on the payments bus (IAM events:source), None: it puts none.
    # Subscribers act on `source`, so only the webhook may put `stripe`.
    publishes: str | None = None
    memory_mb: int = 512
    timeout_s: int = 15
    # SnapStart: init (imports, clients, tracer) runs before the snapshot, not on a customer's request.
    # On for every API route (users wait on them); subscribers and schedules run asynchronously.
    snapstart: bool = False

    @property
    def kind(self) -> str:
        if self.route:
            return "api"
        if self.subscription:
            return "subscriber"
        return "scheduled"

    def __hash__(self) -> int:
        return hash(self.name)


_API_WRITE = {PAYMENTS: Access.READ_WRITE, IDEMPOTENCY: Access.READ_WRITE}
_STRIPE = (STRIPE_API_KEY,)

STRIPE_PAYMENT_INTENT_EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.requires_action",
    "payment_intent.canceled",
    "payment_intent.amount_capturable_updated",
    # Asynchronous balance transactions: the charge's fee arrives after the payment succeeded.
    "charge.updated",
)
STRIPE_REFUND_EVENTS = (  # the refund.* events carry the refund; a charge lists its refunds if expanded
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.refunded",
    "charge.refund.updated",
)
STRIPE_DISPUTE_EVENTS = (
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
)
STRIPE_PAYOUT_EVENTS = (
    "payout.created",
    "payout.updated",
    "payout.paid",
    "payout.failed",
    "payout.canceled",
    "payout.reconciliation_completed",
)
# Every domain event that can move money (DisputeUpdated: funds withdrawn or reinstated after the
# dispute opened; RefundFailed: a succeeded refund that failed later). See docs/ledger.md.
LEDGER_EVENTS = (
    "PaymentProcessed",
    "PaymentCaptured",
    "PaymentFeeRecorded",
    "RefundIssued",
    "RefundFailed",
    "ChargebackReceived",
    "DisputeUpdated",
    "DisputeClosed",
    "PayoutCreated",
    "PayoutPaid",
    "PayoutFailed",
    "PayoutCanceled",
)

FUNCTIONS: tuple[Function, ...] = (
    Function(
        "process_payment",
        "Charge a payment method for an order (write-ahead, idempotent)",
        route=Route("POST", "/payments"),
        tables={**_API_WRITE, PAYMENT_METHODS: Access.READ},
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
        memory_mb=1024,
        timeout_s=29,
        snapstart=True,
    ),
    Function(
        "list_payments",
        "List payments: a customer's own, or any customer's/status for admins",
        route=Route("GET", "/payments"),
        tables={PAYMENTS: Access.READ},
        secrets=(CURSOR_KEY,),
        snapstart=True,
    ),
    Function(
        "get_payment",
        "Read one payment with its refunds",
        route=Route("GET", "/payments/{payment_id}"),
        tables={PAYMENTS: Access.READ},
        snapstart=True,
    ),
    Function(
        "capture_payment",
        "Capture an authorized (manual capture) payment",
        route=Route("POST", "/payments/{payment_id}/capture", admin_only=True),
        tables=_API_WRITE,
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
        timeout_s=29,
        snapstart=True,
    ),
    Function(
        "cancel_payment",
        "Cancel a payment that has not been captured",
        route=Route("POST", "/payments/{payment_id}/cancel"),
        tables=_API_WRITE,
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
        timeout_s=29,
        snapstart=True,
    ),
    Function(
        "refund_payment",
        "Refund all or part of a captured payment (reserve first)",
        route=Route("POST", "/payments/{payment_id}/refunds", admin_only=True),
        tables=_API_WRITE,
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
        timeout_s=29,
        snapstart=True,
    ),
    Function(
        "get_payment_history",
        "The payment's domain events, oldest first",
        route=Route("GET", "/payments/{payment_id}/events"),
        tables={PAYMENTS: Access.READ},
        snapstart=True,
    ),
    Function(
        "save_payment_method",
        "Save a Stripe payment method for the caller (attach to their Stripe customer)",
        route=Route("POST", "/payment-methods"),
        tables={PAYMENT_METHODS: Access.READ_WRITE, IDEMPOTENCY: Access.READ_WRITE},
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
        timeout_s=29,
        snapstart=True,
    ),
    Function(
        "list_payment_methods",
        "List the caller's saved payment methods",
        route=Route("GET", "/payment-methods"),
        tables={PAYMENT_METHODS: Access.READ},
        secrets=(CURSOR_KEY,),
        snapstart=True,
    ),
    Function(
        "get_payment_method",
        "Read one of the caller's saved payment methods",
        route=Route("GET", "/payment-methods/{payment_method_id}"),
        tables={PAYMENT_METHODS: Access.READ},
        snapstart=True,
    ),
    Function(
        "delete_payment_method",
        "Detach a saved payment method in Stripe and forget it",
        route=Route("DELETE", "/payment-methods/{payment_method_id}"),
        tables={PAYMENT_METHODS: Access.READ_WRITE, IDEMPOTENCY: Access.READ_WRITE},
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
        timeout_s=29,
        snapstart=True,
    ),
    Function(
        "ledger_balances",
        "Each account's balance and the trial balance of a currency over a period (admins)",
        route=Route("GET", "/ledger/balances", admin_only=True),
        tables={LEDGER: Access.READ},
        snapstart=True,
    ),
    Function(
        "ledger_entries",
        "A currency's journal entries over a period, oldest first (admins)",
        route=Route("GET", "/ledger/entries", admin_only=True),
        tables={LEDGER: Access.READ},
        secrets=(CURSOR_KEY,),
        snapstart=True,
    ),
    Function(
        "stripe_webhook",
        "Verify Stripe's signature, dedupe by event id, forward the event to the bus",
        route=Route("POST", "/webhooks/stripe", authorizer=False),
        tables={IDEMPOTENCY: Access.READ_WRITE},
        secrets=(STRIPE_WEBHOOK_SECRETS,),
        publishes=STRIPE_EVENT_SOURCE,
        memory_mb=512,
        timeout_s=10,
        snapstart=True,
    ),
    Function(
        "reconcile",
        "Reconcile the ledger with Stripe: yesterday (daily), a payout (paid, reconciled), or as invoked",
        # A payout is reconciled when Stripe says it arrived, and again once Stripe has finished its own
        # reconciliation of it (only then does Stripe list all of its balance transactions); the second
        # run replaces the first. The schedule covers every day.
        subscription=Subscription(STRIPE_EVENT_SOURCE, ("payout.paid", "payout.reconciliation_completed")),
        schedule_minutes=1440,
        tables={LEDGER: Access.READ, RECONCILIATION: Access.READ_WRITE},
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
        memory_mb=1024,
        timeout_s=300,
    ),
    Function(
        "start_reconciliation_run",
        "Reconcile a period or a payout with Stripe now and answer the run's summary",
        route=Route("POST", "/reconciliation/runs", admin_only=True),
        tables={LEDGER: Access.READ, RECONCILIATION: Access.READ_WRITE, IDEMPOTENCY: Access.READ_WRITE},
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
        memory_mb=1024,
        timeout_s=29,
        snapstart=True,
    ),
    Function(
        "list_reconciliation_runs",
        "List reconciliation runs, the most recently started first",
        route=Route("GET", "/reconciliation/runs", admin_only=True),
        tables={RECONCILIATION: Access.READ},
        secrets=(CURSOR_KEY,),
        snapstart=True,
    ),
    Function(
        "get_reconciliation_run",
        "Read one reconciliation run: its summary and a page of its differences",
        route=Route("GET", "/reconciliation/runs/{run_id}", admin_only=True),
        tables={RECONCILIATION: Access.READ},
        secrets=(CURSOR_KEY,),
        snapstart=True,
    ),
    Function(
        "get_reconciliation_differences",
        "Every difference of a reconciliation run, as CSV",
        route=Route("GET", "/reconciliation/runs/{run_id}/differences", admin_only=True),
        tables={RECONCILIATION: Access.READ},
        snapstart=True,
    ),
    Function(
        "payment_status",
        "Apply Stripe payment_intent.* events to the payment",
        subscription=Subscription(STRIPE_EVENT_SOURCE, STRIPE_PAYMENT_INTENT_EVENTS),
        tables={PAYMENTS: Access.READ_WRITE},
        # Reads Stripe: the fee of a charge a webhook names by id, the whole of a slimmed event.
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
    ),
    Function(
        "refunds",
        "Apply Stripe refund events to refunds and the payment's refunded amount",
        subscription=Subscription(STRIPE_EVENT_SOURCE, STRIPE_REFUND_EVENTS),
        tables={PAYMENTS: Access.READ_WRITE},
        # A refund made in the dashboard names only its PaymentIntent, whose metadata has our payment id.
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
    ),
    Function(
        "disputes",
        "Apply Stripe dispute events to the payment's dispute",
        subscription=Subscription(STRIPE_EVENT_SOURCE, STRIPE_DISPUTE_EVENTS),
        tables={PAYMENTS: Access.READ_WRITE},
        # Reads Stripe: the disputed PaymentIntent's metadata (our payment id), slimmed events.
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
    ),
    Function(
        "payouts",
        "Apply Stripe payout events to our payout records (PayoutCreated, Paid, Failed, Canceled)",
        subscription=Subscription(STRIPE_EVENT_SOURCE, STRIPE_PAYOUT_EVENTS),
        tables={LEDGER: Access.READ_WRITE},  # PAYOUT# records live with the ledger they feed
        secrets=_STRIPE,  # reads Stripe: the whole of a slimmed event
        publishes=DOMAIN_EVENT_SOURCE,
    ),
    Function(
        "accounting",
        "Book domain events as balanced journal entries in the ledger",
        subscription=Subscription(DOMAIN_EVENT_SOURCE, LEDGER_EVENTS),
        tables={LEDGER: Access.READ_WRITE},
    ),
    Function(
        "outbox_relay",
        "Republish domain events left unpublished after their commit",
        schedule_minutes=1,
        tables={PAYMENTS: Access.READ_WRITE},
        publishes=DOMAIN_EVENT_SOURCE,
        timeout_s=60,
    ),
    Function(
        "janitor",
        "Settle payments and refunds left waiting for Stripe (adopt, release or complete them)",
        schedule_minutes=5,
        tables={PAYMENTS: Access.READ_WRITE},
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
        timeout_s=120,
    ),
)

FUNCTIONS_BY_NAME: dict[str, Function] = {f.name: f for f in FUNCTIONS}


def function(name: str) -> Function:
    return FUNCTIONS_BY_NAME[name]


def api_functions() -> list[Function]:
    return [f for f in FUNCTIONS if f.route]


def subscribers() -> list[Function]:
    return [f for f in FUNCTIONS if f.subscription]


def forwarded_stripe_events() -> tuple[str, ...]:
    """Every Stripe event type a subscriber handles: what the webhook forwards to the bus."""
    types = {
        t
        for f in subscribers()
        if f.subscription and f.subscription.source == STRIPE_EVENT_SOURCE
        for t in f.subscription.detail_types
    }
    return tuple(sorted(types))


def admin_routes() -> tuple[str, ...]:
    """The admin-only routes as "METHOD /path/{param}" (API Gateway's httpMethod and resource)."""
    return tuple(
        f"{f.route.method} {f.route.path}" for f in api_functions() if f.route and f.route.admin_only
    )


def environment(fn: Function, names: dict[str, str], bus_name: str) -> dict[str, str]:
    """Environment variables naming the resources `fn` uses: `names` maps table and secret logical
    names to physical ones (the bus is passed apart: it shares the name "payments" with a table).

    The values of the access and forwarding rules are the same for every function that gets them, so
    in-process tests may run all functions under the union of their environments."""
    env = {t.env: names[t.name] for t in fn.tables}
    env.update({s.env: names[s.name] for s in fn.secrets})
    if fn.publishes:
        env[EVENT_BUS_ENV] = bus_name
    if fn.route and fn.route.authorizer:
        env["ADMIN_GROUP"] = ADMIN_GROUP
        env["ADMIN_ROUTES"] = ",".join(admin_routes())
    if fn.publishes == STRIPE_EVENT_SOURCE:
        env["STRIPE_EVENT_TYPES"] = ",".join(forwarded_stripe_events())
    return env


# --------------------------------------------------------------------------- gateway responses
# The errors API Gateway answers itself, before a function runs or instead of its answer: the deployed
# API's gateway responses (infra/aws/api.py) and the local gateway's answers (infra/local/gateway.py).
# Both render them with payments.http.problems.


@dataclass(frozen=True)
class GatewayResponse:
    response_type: str  # API Gateway's name, e.g. UNAUTHORIZED
    status: int | None  # None: API Gateway's own status is kept (DEFAULT_5XX)
    code: str
    title: str
    error_type: str | None = None  # x-amzn-ErrorType as API Gateway sends it (the local gateway adds it)


GATEWAY_RESPONSES: tuple[GatewayResponse, ...] = (
    GatewayResponse(
        "UNAUTHORIZED", 401, "unauthenticated", "Authentication required", "UnauthorizedException"
    ),
    GatewayResponse("ACCESS_DENIED", 403, "forbidden", "Forbidden"),
    GatewayResponse("WAF_FILTERED", 403, "forbidden", "Forbidden"),
    # An unknown path would answer 403 "Missing Authentication Token"; it is a plain 404.
    GatewayResponse(
        "MISSING_AUTHENTICATION_TOKEN", 404, "not_found", "Not found", "MissingAuthenticationTokenException"
    ),
    GatewayResponse("RESOURCE_NOT_FOUND", 404, "not_found", "Not found"),
    GatewayResponse(
        "BAD_REQUEST_PARAMETERS", 400, "validation_error", "The request is invalid", "BadRequestException"
    ),
    GatewayResponse("BAD_REQUEST_BODY", 400, "validation_error", "The request is invalid"),
    GatewayResponse("REQUEST_TOO_LARGE", 413, "request_too_large", "Request too large"),
    GatewayResponse("THROTTLED", 429, "rate_limited", "Too many requests"),
    GatewayResponse("QUOTA_EXCEEDED", 429, "rate_limited", "Too many requests"),
    GatewayResponse("INTEGRATION_TIMEOUT", 504, "timeout", "The request timed out"),
    GatewayResponse("DEFAULT_5XX", None, "internal_error", "Internal error"),
)


def gateway_response(response_type: str) -> GatewayResponse:
    return next(r for r in GATEWAY_RESPONSES if r.response_type == response_type)
