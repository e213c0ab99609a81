"""The service catalog: every table, secret, function, route and event pattern, as plain data.

Both the CDK stack (infra/aws) and the local stack (infra/local) are built from this module, so the
deployed service and the one on a laptop cannot disagree. No CDK or boto3 import here on purpose.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import ClassVar, Literal

SERVICE_NAME = "payments"
METRICS_NAMESPACE = "Payments"
# Every metric of the functions carries these dimensions (payments.observability: the service name and
# the STAGE environment variable), so two stages in one account never mix in an alarm or a graph.
METRIC_STAGE_DIMENSION = "stage"
API_STAGE = "v1"
EVENT_BUS = "payments"
EVENT_BUS_ENV = "EVENT_BUS_NAME"
DOMAIN_EVENT_SOURCE = "payments"
STRIPE_EVENT_SOURCE = "stripe"
# Both sources are archived on the bus (AWS and the local stack), so any subscriber can be replayed.
ARCHIVED_SOURCES = (DOMAIN_EVENT_SOURCE, STRIPE_EVENT_SOURCE)
# Members of this Cognito group are admins; routes flagged admin_only are theirs alone (the functions get
# both in their environment, see `environment`).
ADMIN_GROUP = "payments-admin"
# Who may call the API (docs/architecture.md, Trust model): every authorized method takes Cognito access
# tokens holding one of API_SCOPES. People's tokens (customers, admins) carry USER_SCOPE; services use the
# client-credentials flow of the service app client, whose tokens carry SERVICE_SCOPE (resource server
# RESOURCE_SERVER, scope SERVICE_SCOPE_NAME) and no user.
RESOURCE_SERVER = "payments"
SERVICE_SCOPE_NAME = "service"
SERVICE_SCOPE = f"{RESOURCE_SERVER}/{SERVICE_SCOPE_NAME}"
USER_SCOPE = "aws.cognito.signin.user.admin"
API_SCOPES: tuple[str, ...] = (USER_SCOPE, SERVICE_SCOPE)
# The AWS APIs the functions call (boto3 clients). The deployed botocore keeps only these service models.
AWS_SERVICES: tuple[str, ...] = ("dynamodb", "events", "secretsmanager", "lambda")  # lambda: the risk hook
# API Gateway base64-encodes only these content types. None: every body stays text, so Stripe's webhook
# body reaches the function byte for byte as sent (its signature covers the raw body).
BINARY_MEDIA_TYPES: tuple[str, ...] = ()


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str | None = None
    # ALL copies every attribute into the index, so every change of the item rewrites its entry there
    # too; KEYS_ONLY keeps the keys, so the entry changes only with them, at one write unit. Readers of
    # a KEYS_ONLY index then fetch the items by key (docs/performance.md, Cost).
    projection: Literal["ALL", "KEYS_ONLY"] = "ALL"


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
        # Keys only: read by admins and the janitor, written on every status change.
        Index("by_status", "status_pk", "created_sk", projection="KEYS_ONLY"),
        # Sparse: only events not yet published carry outbox_pk, so the relay reads just the backlog.
        Index("outbox", "outbox_pk", "occurred_at", projection="KEYS_ONLY"),
        # Sparse: only DISPUTE# records carry dispute_pk (DISPUTES#<status>), soonest due first.
        Index("disputes", "dispute_pk", "due_sk"),
        # Sparse: only payments our review hold keeps authorized carry hold_pk, so the hold expiry reads
        # just those, the oldest hold first.
        Index("holds", "hold_pk", "hold_sk"),
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
RISK = Table(
    name="risk",
    env="RISK_TABLE",
    # Sparse: only blocklist entries carry list_pk, so the listing reads them by kind, newest first.
    indexes=(Index("blocklist", "list_pk", "list_sk"),),
    ttl_attribute="expiration",
    description="Risk rules (RULES), blocklist entries (BLOCK#<kind>#<value>, BLOCKID#<id>), the AUDIT "
    "trail of their changes, and the pre-authorization checks' VELOCITY# counters",
)
TABLES: tuple[Table, ...] = (PAYMENTS, PAYMENT_METHODS, LEDGER, IDEMPOTENCY, RECONCILIATION, RISK)


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
# The Order Service's public keys for order tokens (docs/risk.md, Amounts from the order): its current
# key and, while it rolls its key, the previous one; each a public JWK (EC P-256 or OKP Ed25519) with kid.
ORDER_TOKEN_KEYS = Secret(
    "payments/order-token-keys",
    "ORDER_TOKEN_KEYS_SECRET",
    'Order Service public JWKs for order tokens as JSON: {"current": {"kty": "OKP", "crv": "Ed25519", '
    '"x": "...", "kid": "..."}, "previous": {...}}',
)
SECRETS: tuple[Secret, ...] = (STRIPE_API_KEY, STRIPE_WEBHOOK_SECRETS, CURSOR_KEY, ORDER_TOKEN_KEYS)
# The `iss` order tokens must carry; a stage may set another (infra/aws/config.py order_token_issuer).
ORDER_TOKEN_ISSUER = "orders"  # noqa: S105 - a claim's expected value, not a secret
ORDER_TOKEN_ISSUER_ENV = "ORDER_TOKEN_ISSUER"  # noqa: S105 - a variable's name


# --------------------------------------------------------------------------- access


class Op(Enum):
    """A DynamoDB item operation, by the IAM action it needs. A transaction needs the action of each of
    its parts (Get: GetItem, Put: PutItem, Update: UpdateItem, Delete: DeleteItem, ConditionCheck:
    ConditionCheckItem) and nothing for TransactGetItems/TransactWriteItems themselves; a condition on a
    Put, Update or Delete needs nothing more."""

    GET = "dynamodb:GetItem"
    QUERY = "dynamodb:Query"  # on the table's own keys; an index's Query is `query_indexes`
    PUT = "dynamodb:PutItem"
    UPDATE = "dynamodb:UpdateItem"
    DELETE = "dynamodb:DeleteItem"
    CONDITION_CHECK = "dynamodb:ConditionCheckItem"


# The operations that store item data, encrypted under the table's key (kms:Encrypt, GenerateDataKey).
STORING_OPS = frozenset({Op.PUT, Op.UPDATE})
EVERY_INDEX = "*"  # in `query_indexes`: each index the table has (named one by one in IAM, never `*`)


@dataclass(frozen=True)
class Access:
    """What a function does to one table: the operations its code calls and the indexes it queries. CDK
    grants exactly that (infra/aws/functions.py), so declare what the code does and nothing more:

        Access.of(Op.GET, Op.PUT)                       # items by key
        Access.of(query_indexes=("by_status",))         # Query on one index, nothing on the table
        Access.of(Op.GET) | IDEMPOTENCY_RECORDS         # needs combine with |

    READ, WRITE and READ_WRITE are the coarse levels: everything a reader (Query on every index
    included) or a writer of the table could need, so a new function works before its needs are
    narrowed to what its code does."""

    ops: frozenset[Op] = frozenset()
    query_indexes: frozenset[str] = frozenset()  # index names, or EVERY_INDEX

    READ: ClassVar[Access]
    WRITE: ClassVar[Access]
    READ_WRITE: ClassVar[Access]

    @classmethod
    def of(cls, *ops: Op, query_indexes: Iterable[str] = ()) -> Access:
        return cls(frozenset(ops), frozenset(query_indexes))

    def __or__(self, other: Access) -> Access:
        return Access(self.ops | other.ops, self.query_indexes | other.query_indexes)

    @property
    def actions(self) -> tuple[str, ...]:
        """The IAM actions on the table itself, sorted."""
        return tuple(sorted(op.value for op in self.ops))

    @property
    def stores(self) -> bool:
        return bool(self.ops & STORING_OPS)

    def indexes_of(self, table: Table) -> tuple[str, ...]:
        """The names of `table`'s indexes this access queries; an index the table lacks is an error."""
        names = tuple(index.name for index in table.indexes)
        if EVERY_INDEX in self.query_indexes:
            return names
        unknown = sorted(self.query_indexes - set(names))
        if unknown:
            raise ValueError(f"table {table.name} has no index {', '.join(unknown)}; it has {names}")
        return tuple(name for name in names if name in self.query_indexes)


Access.READ = Access.of(Op.GET, Op.QUERY, query_indexes=(EVERY_INDEX,))
Access.WRITE = Access.of(Op.PUT, Op.UPDATE)
Access.READ_WRITE = Access.READ | Access.WRITE | Access.of(Op.DELETE)
# Powertools' DynamoDB persistence layer (the idempotency records): get_item, put_item, update_item and
# delete_item (aws_lambda_powertools/utilities/idempotency/persistence/dynamodb.py), no Query.
IDEMPOTENCY_RECORDS = Access.of(Op.GET, Op.PUT, Op.UPDATE, Op.DELETE)


# --------------------------------------------------------------------------- functions


@dataclass(frozen=True)
class Route:
    method: Literal["GET", "POST", "PUT", "DELETE"]
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
    # Lambda functions it may invoke (lambda:InvokeFunction): name patterns in the service's account and
    # region.
    invokes: tuple[str, ...] = ()

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
# What a payment command does (the adapters in payments/adapters/dynamodb): read the payment (GetItem,
# TransactGetItems), commit its change (the transaction's Puts, the order claim's Update) and mark its
# events published (UpdateItem). No Query, no Delete.
_PAYMENT_CHANGES = Access.of(Op.GET, Op.PUT, Op.UPDATE)
_PAYMENT_COMMAND = {PAYMENTS: _PAYMENT_CHANGES, IDEMPOTENCY: IDEMPOTENCY_RECORDS}
# The checks before Stripe (payments/application/risk.py): the rules and blocklist entries (GetItem,
# TransactGetItems), the velocity counters (UpdateItem, then a Query of the subject's hours) and a
# decline's count (the transaction's Put and Updates).
_RISK_DECLINES = Access.of(Op.PUT, Op.UPDATE)
_RISK_CHECKS = Access.of(Op.GET, Op.QUERY) | _RISK_DECLINES
# A change of the rules or the blocklist: read what it replaces, then one transaction of Puts (the item
# on its condition, its AUDIT item); a removal also deletes the entry (payments/adapters/dynamodb/risk.py).
_RISK_ADMIN = Access.of(Op.GET, Op.PUT)
# The risk rules' external hook (docs/risk.md, External hook) is a Lambda function that ops deploy in the
# service's account and region under a name of this pattern: the checks may invoke those and no other.
RISK_HOOK_FUNCTIONS = "risk-hook-*"
# A reconciliation run's records: read the run, write its summary and differences, delete the differences
# an earlier attempt left beyond the new count (payments/adapters/dynamodb/reconciliation.py).
_RECONCILIATION_RUNS = Access.of(Op.GET, Op.QUERY, Op.PUT, Op.DELETE)
# An admin's dispute command: the DISPUTE# record read, then written from Stripe's answer
# (payments/adapters/dynamodb/disputes.py); nothing else of the payments table.
_DISPUTE_COMMAND = {PAYMENTS: Access.of(Op.GET, Op.PUT), IDEMPOTENCY: IDEMPOTENCY_RECORDS}
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
# Stripe Radar after authorization: its reviews of our charges and the issuers' early fraud warnings.
STRIPE_FRAUD_EVENTS = (
    "review.opened",
    "review.closed",
    "radar.early_fraud_warning.created",
    "radar.early_fraud_warning.updated",
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
        tables={
            **_PAYMENT_COMMAND,
            PAYMENT_METHODS: Access.of(Op.GET),  # the method's OWNER and the caller's PM# items
            RISK: _RISK_CHECKS,
        },
        secrets=(*_STRIPE, ORDER_TOKEN_KEYS),
        publishes=DOMAIN_EVENT_SOURCE,
        invokes=(RISK_HOOK_FUNCTIONS,),
        # It waits on Stripe for most of its ~1 s, billed per GB-second: 512 MB halves that cost against
        # 1024, for ~20 ms more of its own CPU time (docs/performance.md, Cost).
        memory_mb=512,
        timeout_s=29,
        snapstart=True,
    ),
    Function(
        "list_payments",
        "List payments: a customer's own, or any customer's/status/order's for admins",
        route=Route("GET", "/payments"),
        # by_status holds keys only: the page's payments are then read by key (TransactGetItems); an
        # order's payment is its ORDER# claim, then the payment it names (two GetItems).
        tables={PAYMENTS: Access.of(Op.GET, query_indexes=("by_customer", "by_status"))},
        secrets=(CURSOR_KEY,),
        snapstart=True,
    ),
    Function(
        "get_payment",
        "Read one payment with its refunds",
        route=Route("GET", "/payments/{payment_id}"),
        tables={PAYMENTS: Access.of(Op.QUERY)},  # STATE and REFUND# items in one Query
        snapstart=True,
    ),
    Function(
        "capture_payment",
        "Capture an authorized (manual capture) payment",
        route=Route("POST", "/payments/{payment_id}/capture", admin_only=True),
        tables=_PAYMENT_COMMAND,
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
        timeout_s=29,
        snapstart=True,
    ),
    Function(
        "cancel_payment",
        "Cancel a payment that has not been captured",
        route=Route("POST", "/payments/{payment_id}/cancel"),
        tables=_PAYMENT_COMMAND,
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
        timeout_s=29,
        snapstart=True,
    ),
    Function(
        "refund_payment",
        "Refund all or part of a captured payment (reserve first)",
        route=Route("POST", "/payments/{payment_id}/refunds", admin_only=True),
        tables=_PAYMENT_COMMAND,
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
        timeout_s=29,
        snapstart=True,
    ),
    Function(
        "get_payment_history",
        "The payment's domain events, oldest first",
        route=Route("GET", "/payments/{payment_id}/events"),
        tables={PAYMENTS: Access.of(Op.QUERY)},
        snapstart=True,
    ),
    Function(
        "save_payment_method",
        "Save a Stripe payment method for the caller (attach to their Stripe customer)",
        route=Route("POST", "/payment-methods"),
        tables={PAYMENT_METHODS: Access.of(Op.GET, Op.PUT), IDEMPOTENCY: IDEMPOTENCY_RECORDS},
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
        timeout_s=29,
        snapstart=True,
    ),
    Function(
        "list_payment_methods",
        "List the caller's saved payment methods",
        route=Route("GET", "/payment-methods"),
        tables={PAYMENT_METHODS: Access.of(Op.QUERY)},
        secrets=(CURSOR_KEY,),
        snapstart=True,
    ),
    Function(
        "get_payment_method",
        "Read one of the caller's saved payment methods",
        route=Route("GET", "/payment-methods/{payment_method_id}"),
        tables={PAYMENT_METHODS: Access.of(Op.GET)},
        snapstart=True,
    ),
    Function(
        "delete_payment_method",
        "Detach a saved payment method in Stripe and forget it",
        route=Route("DELETE", "/payment-methods/{payment_method_id}"),
        tables={PAYMENT_METHODS: Access.of(Op.GET, Op.DELETE), IDEMPOTENCY: IDEMPOTENCY_RECORDS},
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
        timeout_s=29,
        snapstart=True,
    ),
    Function(
        "ledger_balances",
        "Each account's balance and the trial balance of a currency over a period (admins)",
        route=Route("GET", "/ledger/balances", admin_only=True),
        tables={LEDGER: Access.of(Op.QUERY)},
        snapstart=True,
    ),
    Function(
        "ledger_entries",
        "A currency's journal entries over a period, oldest first (admins)",
        route=Route("GET", "/ledger/entries", admin_only=True),
        tables={LEDGER: Access.of(Op.QUERY)},
        secrets=(CURSOR_KEY,),
        snapstart=True,
    ),
    Function(
        "list_disputes",
        "List disputes in one status, the soonest due first (admins)",
        route=Route("GET", "/disputes", admin_only=True),
        tables={PAYMENTS: Access.of(query_indexes=("disputes",))},
        secrets=(CURSOR_KEY,),
        snapstart=True,
    ),
    Function(
        "get_dispute",
        "Read one dispute with the evidence Stripe holds for it (admins)",
        route=Route("GET", "/disputes/{dispute_id}", admin_only=True),
        tables={PAYMENTS: Access.of(Op.GET)},  # the DISPUTE# record
        secrets=_STRIPE,  # the staged or submitted evidence is read from Stripe
        snapstart=True,
    ),
    Function(
        "submit_dispute_evidence",
        "Upload evidence files and stage the dispute's evidence, or submit it (once)",
        route=Route("POST", "/disputes/{dispute_id}/evidence", admin_only=True),
        tables=_DISPUTE_COMMAND,
        secrets=_STRIPE,
        # Bodies of up to 5.5 MB (files in base64): decoded, checked and uploaded in one call.
        memory_mb=1024,
        timeout_s=29,
        snapstart=True,
    ),
    Function(
        "accept_dispute",
        "Accept a dispute: Stripe closes it lost (irreversible)",
        route=Route("POST", "/disputes/{dispute_id}/accept", admin_only=True),
        tables=_DISPUTE_COMMAND,
        secrets=_STRIPE,
        timeout_s=29,
        snapstart=True,
    ),
    Function(
        "stripe_webhook",
        "Verify Stripe's signature, dedupe by event id, forward the event to the bus",
        route=Route("POST", "/webhooks/stripe", authorizer=False),
        tables={IDEMPOTENCY: IDEMPOTENCY_RECORDS},
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
        tables={LEDGER: Access.of(Op.QUERY), RECONCILIATION: _RECONCILIATION_RUNS},
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
        memory_mb=1024,
        timeout_s=300,
    ),
    Function(
        "start_reconciliation_run",
        "Reconcile a period or a payout with Stripe now and answer the run's summary",
        route=Route("POST", "/reconciliation/runs", admin_only=True),
        tables={
            LEDGER: Access.of(Op.QUERY),
            RECONCILIATION: _RECONCILIATION_RUNS,
            IDEMPOTENCY: IDEMPOTENCY_RECORDS,
        },
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
        tables={RECONCILIATION: Access.of(query_indexes=("runs",))},
        secrets=(CURSOR_KEY,),
        snapstart=True,
    ),
    Function(
        "get_reconciliation_run",
        "Read one reconciliation run: its summary and a page of its differences",
        route=Route("GET", "/reconciliation/runs/{run_id}", admin_only=True),
        tables={RECONCILIATION: Access.of(Op.GET, Op.QUERY)},
        secrets=(CURSOR_KEY,),
        snapstart=True,
    ),
    Function(
        "get_reconciliation_differences",
        "Every difference of a reconciliation run, as CSV",
        route=Route("GET", "/reconciliation/runs/{run_id}/differences", admin_only=True),
        tables={RECONCILIATION: Access.of(Op.QUERY)},
        snapstart=True,
    ),
    Function(
        "risk_get_rules",
        "Read the risk rules in force (the defaults until an admin stores some)",
        route=Route("GET", "/risk/rules", admin_only=True),
        tables={RISK: Access.of(Op.GET)},
        snapstart=True,
    ),
    Function(
        "risk_put_rules",
        "Replace the risk rules (on the version read) and audit the change",
        route=Route("PUT", "/risk/rules", admin_only=True),
        tables={RISK: _RISK_ADMIN, IDEMPOTENCY: IDEMPOTENCY_RECORDS},
        publishes=DOMAIN_EVENT_SOURCE,
        snapstart=True,
    ),
    Function(
        "risk_list_blocklist",
        "List the blocklist entries in force, by kind, newest first",
        route=Route("GET", "/risk/blocklist", admin_only=True),
        tables={RISK: Access.of(query_indexes=("blocklist",))},
        secrets=(CURSOR_KEY,),
        snapstart=True,
    ),
    Function(
        "risk_add_blocklist_entry",
        "Block a card fingerprint, card BIN, issuing country or customer, and audit it",
        route=Route("POST", "/risk/blocklist", admin_only=True),
        tables={RISK: _RISK_ADMIN, IDEMPOTENCY: IDEMPOTENCY_RECORDS},
        publishes=DOMAIN_EVENT_SOURCE,
        snapstart=True,
    ),
    Function(
        "risk_remove_blocklist_entry",
        "Remove a blocklist entry and audit it",
        route=Route("DELETE", "/risk/blocklist/{entry_id}", admin_only=True),
        tables={RISK: _RISK_ADMIN | Access.of(Op.DELETE), IDEMPOTENCY: IDEMPOTENCY_RECORDS},
        publishes=DOMAIN_EVENT_SOURCE,
        snapstart=True,
    ),
    Function(
        "risk_list_audit",
        "The audit trail of risk rule and blocklist changes, newest first",
        route=Route("GET", "/risk/audit", admin_only=True),
        tables={RISK: Access.of(Op.QUERY)},
        secrets=(CURSOR_KEY,),
        snapstart=True,
    ),
    Function(
        "payment_status",
        "Apply Stripe payment_intent.* events to the payment",
        subscription=Subscription(STRIPE_EVENT_SOURCE, STRIPE_PAYMENT_INTENT_EVENTS),
        tables={PAYMENTS: _PAYMENT_CHANGES, RISK: _RISK_DECLINES},  # RISK: a decline's velocity count
        # Reads Stripe: the fee of a charge a webhook names by id, the whole of a slimmed event.
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
    ),
    Function(
        "refunds",
        "Apply Stripe refund events to refunds and the payment's refunded amount",
        subscription=Subscription(STRIPE_EVENT_SOURCE, STRIPE_REFUND_EVENTS),
        tables={PAYMENTS: _PAYMENT_CHANGES | Access.of(Op.QUERY)},  # Query: the payment's refunds
        # A refund made in the dashboard names only its PaymentIntent, whose metadata has our payment id.
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
    ),
    Function(
        "disputes",
        "Apply Stripe dispute events to the payment's dispute and the dispute's record",
        subscription=Subscription(STRIPE_EVENT_SOURCE, STRIPE_DISPUTE_EVENTS),
        # A payment change, then the DISPUTE# record read and put on its version.
        tables={PAYMENTS: _PAYMENT_CHANGES},
        # Reads Stripe: the disputed PaymentIntent's metadata (our payment id), slimmed events.
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
    ),
    Function(
        "fraud_signals",
        "Apply Stripe Radar's reviews and early fraud warnings to the payment's risk; refund warned payments",
        subscription=Subscription(STRIPE_EVENT_SOURCE, STRIPE_FRAUD_EVENTS),
        # The payment and its REFUND# items; the risk rules (what a warning does), read only.
        # The payment's change and the refund a warning calls for (Query: its refunds); the rules' policy.
        tables={PAYMENTS: _PAYMENT_CHANGES | Access.of(Op.QUERY), RISK: Access.of(Op.GET)},
        # Reads Stripe (each review and warning again, with its PaymentIntent) and refunds there.
        secrets=_STRIPE,
        publishes=DOMAIN_EVENT_SOURCE,
    ),
    Function(
        "dispute_deadlines",
        "Announce disputes due within 72 and 24 hours (DisputeDeadlineApproaching); count those past due",
        schedule_minutes=15,
        # The disputes index; the payment's notice committed (GetItem, the transaction's Puts), its event
        # marked published (UpdateItem); the record's copy of the mark (PutItem).
        tables={PAYMENTS: _PAYMENT_CHANGES | Access.of(query_indexes=("disputes",))},
        publishes=DOMAIN_EVENT_SOURCE,
        timeout_s=60,
    ),
    Function(
        "payouts",
        "Apply Stripe payout events to our payout records (PayoutCreated, Paid, Failed, Canceled)",
        subscription=Subscription(STRIPE_EVENT_SOURCE, STRIPE_PAYOUT_EVENTS),
        tables={LEDGER: Access.of(Op.GET, Op.PUT)},  # PAYOUT# records live with the ledger they feed
        secrets=_STRIPE,  # reads Stripe: the whole of a slimmed event
        publishes=DOMAIN_EVENT_SOURCE,
    ),
    Function(
        "accounting",
        "Book domain events as balanced journal entries in the ledger",
        subscription=Subscription(DOMAIN_EVENT_SOURCE, LEDGER_EVENTS),
        tables={LEDGER: Access.of(Op.PUT)},  # append-only: a conditional put per entry, never a change
    ),
    Function(
        "outbox_relay",
        "Republish domain events left unpublished after their commit",
        schedule_minutes=1,
        # read the backlog (keys only, then the events by key), mark it published
        tables={PAYMENTS: Access.of(Op.GET, Op.UPDATE, query_indexes=("outbox",))},
        publishes=DOMAIN_EVENT_SOURCE,
        timeout_s=60,
    ),
    Function(
        "janitor",
        "Settle payments and refunds left waiting for Stripe (adopt, release or complete them); expire "
        "review holds",
        schedule_minutes=5,
        tables={
            PAYMENTS: _PAYMENT_CHANGES | Access.of(query_indexes=("by_status", "holds")),
            RISK: Access.of(Op.GET),  # the rules' review_hold_hours
        },
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


def metric_dimensions(stage: str) -> dict[str, str]:
    """The dimensions of every metric the functions of `stage` emit (see METRIC_STAGE_DIMENSION)."""
    return {"service": SERVICE_NAME, METRIC_STAGE_DIMENSION: stage}


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
        env["SERVICE_SCOPE"] = SERVICE_SCOPE
    if ORDER_TOKEN_KEYS in fn.secrets:
        env[ORDER_TOKEN_ISSUER_ENV] = ORDER_TOKEN_ISSUER
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
