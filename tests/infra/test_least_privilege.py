"""Each function's DynamoDB permissions are what its code does, and nothing more.

`CODE_DOES` is read from the adapters each function uses (payments/adapters/dynamodb, through
payments/services.py), not from the catalog: the test compares it with the synthesized template, so a
catalog entry that grants more (or less) than the code needs fails here. A function not listed is
checked against its catalog entry alone (test_functions.py); list it here once its needs are known.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra import catalog
from infra.aws.naming import construct_id
from tests.infra.stacks import REPO, Stage, as_list, ref
from tests.infra.test_functions import function, statements_of

# Powertools' DynamoDB persistence layer: get_item, put_item, update_item, delete_item (no Query).
IDEMPOTENCY = "GetItem PutItem UpdateItem DeleteItem"
# A payment command: GetItem (and TransactGetItems), the commit's Puts and the order claim's Update,
# UpdateItem marking its events published.
PAYMENT_CHANGES = "GetItem PutItem UpdateItem"
# A reconciliation run: its summary read and written, differences written, stale ones deleted.
RUNS = "GetItem Query PutItem DeleteItem"
# function -> table (or table/index/<name>) -> the DynamoDB actions its code calls there.
CODE_DOES: dict[str, dict[str, str]] = {
    "process_payment": {
        "payments": PAYMENT_CHANGES,
        "payment_methods": "GetItem",
        "idempotency": IDEMPOTENCY,
        # The checks before Stripe: rules and blocklist read, velocity counters counted and queried.
        "risk": "GetItem Query PutItem UpdateItem",
    },
    # by_status holds keys only: a page's payments are read by key after the query. An order's payment:
    # GetItem of its ORDER# claim, then of the STATE it names.
    "list_payments": {
        "payments": "GetItem",
        "payments/index/by_customer": "Query",
        "payments/index/by_status": "Query",
    },
    "get_payment": {"payments": "Query"},
    "capture_payment": {"payments": PAYMENT_CHANGES, "idempotency": IDEMPOTENCY},
    "cancel_payment": {"payments": PAYMENT_CHANGES, "idempotency": IDEMPOTENCY},
    "refund_payment": {"payments": PAYMENT_CHANGES, "idempotency": IDEMPOTENCY},
    "get_payment_history": {"payments": "Query"},
    "save_payment_method": {"payment_methods": "GetItem PutItem", "idempotency": IDEMPOTENCY},
    "list_payment_methods": {"payment_methods": "Query"},
    "get_payment_method": {"payment_methods": "GetItem"},
    # The method, its owner and its card claim go in one TransactWriteItems of Deletes.
    "delete_payment_method": {"payment_methods": "GetItem DeleteItem", "idempotency": IDEMPOTENCY},
    "ledger_balances": {"ledger": "Query"},
    "ledger_entries": {"ledger": "Query"},
    "stripe_webhook": {"idempotency": IDEMPOTENCY},
    "reconcile": {"ledger": "Query", "reconciliation": RUNS},
    "start_reconciliation_run": {"ledger": "Query", "reconciliation": RUNS, "idempotency": IDEMPOTENCY},
    "list_reconciliation_runs": {"reconciliation/index/runs": "Query"},
    "get_reconciliation_run": {"reconciliation": "GetItem Query"},
    "get_reconciliation_differences": {"reconciliation": "Query"},
    "payment_status": {"payments": PAYMENT_CHANGES, "risk": "PutItem UpdateItem"},  # a decline's count
    "refunds": {"payments": f"{PAYMENT_CHANGES} Query"},
    "disputes": {"payments": PAYMENT_CHANGES},  # the payment's change, then the DISPUTE# record
    "list_disputes": {"payments/index/disputes": "Query"},
    "get_dispute": {"payments": "GetItem"},
    "submit_dispute_evidence": {"payments": "GetItem PutItem", "idempotency": IDEMPOTENCY},
    "accept_dispute": {"payments": "GetItem PutItem", "idempotency": IDEMPOTENCY},
    "dispute_deadlines": {"payments": PAYMENT_CHANGES, "payments/index/disputes": "Query"},
    "fraud_signals": {"payments": f"{PAYMENT_CHANGES} Query", "risk": "GetItem"},  # a warning's refund
    "risk_get_rules": {"risk": "GetItem"},
    # A change: what it replaces read, then one transaction of Puts with its AUDIT item.
    "risk_put_rules": {"risk": "GetItem PutItem", "idempotency": IDEMPOTENCY},
    "risk_add_blocklist_entry": {"risk": "GetItem PutItem", "idempotency": IDEMPOTENCY},
    "risk_remove_blocklist_entry": {"risk": "GetItem PutItem DeleteItem", "idempotency": IDEMPOTENCY},
    "risk_list_blocklist": {"risk/index/blocklist": "Query"},
    "risk_list_audit": {"risk": "Query"},
    "payouts": {"ledger": "GetItem PutItem"},
    # Append-only: one conditional PutItem per entry; an entry is never read back, changed or removed.
    "accounting": {"ledger": "PutItem"},
    "outbox_relay": {"payments": "GetItem UpdateItem", "payments/index/outbox": "Query"},
    "janitor": {
        "payments": PAYMENT_CHANGES,
        "payments/index/by_status": "Query",
        "payments/index/holds": "Query",  # review holds that expired
        "risk": "GetItem",  # the rules' review_hold_hours
    },
}
SOURCE = REPO / "layers/core/python/payments"


def dynamodb_grants(stage: Stage, spec: catalog.Function) -> dict[str, set[str]]:
    """The template's DynamoDB grants of the function's role: table or table/index/<name> -> actions."""
    tables = {stage.logical_id(f"Tables/{construct_id(t.name)}/Resource"): t.name for t in catalog.TABLES}
    role = ref(function(stage, spec)[1]["Role"]).removesuffix(".Arn")
    grants: dict[str, set[str]] = {}
    for statement in statements_of(stage, role):
        actions = [a for a in as_list(statement["Action"]) if a.startswith("dynamodb:")]
        for resource in as_list(statement["Resource"]) if actions else []:
            logical_id, _, rest = ref(resource).partition(".Arn")
            name = tables[logical_id] + rest
            grants.setdefault(name, set()).update(a.removeprefix("dynamodb:") for a in actions)
    return grants


@pytest.mark.parametrize("name", sorted(CODE_DOES))
def test_function_may_do_exactly_what_its_code_does(stage: Stage, name: str) -> None:
    if name not in catalog.FUNCTIONS_BY_NAME:
        pytest.skip(f"{name} left the catalog: drop it from CODE_DOES")
    expected = {resource: set(actions.split()) for resource, actions in CODE_DOES[name].items()}
    granted = dynamodb_grants(stage, catalog.function(name))
    assert granted == expected, (
        f"{name}'s catalog access and CODE_DOES disagree: when the code changed, update both to what it "
        "calls now"
    )


def _code_calls(pattern: str) -> list[Path]:
    return [p for p in SOURCE.rglob("*.py") if re.search(pattern, p.read_text())]


def test_no_role_may_condition_check_unless_a_transaction_does(stage: Stage) -> None:
    """ConditionCheckItem is only needed by a transaction's ConditionCheck part; no code has one."""
    if _code_calls(r"[\"']ConditionCheck[\"']"):
        pytest.skip("a transaction has a ConditionCheck: declare Op.CONDITION_CHECK where it runs")
    for spec in catalog.FUNCTIONS:
        assert not any("ConditionCheckItem" in a for a in dynamodb_grants(stage, spec).values()), spec.name


def test_no_role_may_scan_or_batch(stage: Stage) -> None:
    """No code scans or batches (TransactGetItems reads several items as of one moment instead)."""
    assert _code_calls(r"\.(scan|batch_get_item|batch_write_item)\(") == []
    for spec in catalog.FUNCTIONS:
        granted = set().union(*dynamodb_grants(stage, spec).values())
        assert not granted & {"Scan", "BatchGetItem", "BatchWriteItem"}, spec.name


def test_index_grants_name_each_index(stage: Stage) -> None:
    """An index is granted by name (<table>/index/<name>), never as <table>/index/*."""
    for spec in catalog.FUNCTIONS:
        for resource in dynamodb_grants(stage, spec):
            assert not resource.endswith("/index/*"), (spec.name, resource)


def test_access_levels() -> None:
    access = catalog.Access
    assert access.READ.indexes_of(catalog.PAYMENTS) == tuple(i.name for i in catalog.PAYMENTS.indexes)
    assert access.READ.indexes_of(catalog.LEDGER) == ()
    assert access.of(query_indexes=("outbox",)).indexes_of(catalog.PAYMENTS) == ("outbox",)
    assert access.of(query_indexes=("outbox",)).actions == ()
    assert (access.of(catalog.Op.GET) | access.of(catalog.Op.PUT)).actions == (
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    )
    assert access.of(catalog.Op.PUT).stores
    assert not access.of(catalog.Op.GET, catalog.Op.DELETE).stores
    # The coarse levels: no ConditionCheck, which no code uses.
    assert "dynamodb:ConditionCheckItem" not in access.READ_WRITE.actions
    assert catalog.IDEMPOTENCY_RECORDS.actions == tuple(sorted(f"dynamodb:{a}" for a in IDEMPOTENCY.split()))


def test_an_index_the_table_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="has no index by_colour"):
        catalog.Access.of(query_indexes=("by_colour",)).indexes_of(catalog.PAYMENTS)


def test_powertools_persistence_calls_what_idempotency_records_grant() -> None:
    """IDEMPOTENCY_RECORDS are the calls of the installed Powertools' DynamoDB persistence layer."""
    from aws_lambda_powertools.utilities.idempotency.persistence import dynamodb

    text = Path(dynamodb.__file__).read_text()
    calls = set(re.findall(r"self\.client\.(\w+)\(", text))
    names = {"get_item": "GetItem", "put_item": "PutItem", "update_item": "UpdateItem"}
    names["delete_item"] = "DeleteItem"
    assert calls == set(names)
    assert {names[c] for c in calls} == set(IDEMPOTENCY.split())
