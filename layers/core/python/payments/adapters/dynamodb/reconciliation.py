"""The reconciliation table: each run's summary and differences, under the run's id.

- `RUN#<run_id>` / `SUMMARY`: status (`running`, `completed`, `failed`), attempt, the period or payout,
  started and finished times, the failure, counts per class, matched, unexplained, currencies, the
  payout check; `runs_pk = RUNS` and `started_sk = <started_at>#<run_id>` for the listing (index `runs`).
- `RUN#<run_id>` / `DIFF#<nnnnn>`: one difference (0-based, in the run's order) with the ids on both
  sides and both sides' totals.

The run id derives from the period or payout, so a run again rewrites the same keys: its differences
overwrite the earlier attempt's, those beyond the new count are deleted, then the summary is written, on
the condition that no later attempt took the run meanwhile. Only GetItem, Query, PutItem, DeleteItem
(alone and in TransactWriteItems) are used: what the catalog's access levels grant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from payments.adapters.dynamodb.codec import from_item, to_item
from payments.adapters.dynamodb.table import TableAdapter
from payments.application.ports import Page
from payments.domain.reconciliation import (
    Difference,
    DifferenceClass,
    PayoutCheck,
    ReconciliationRun,
    RunStatus,
    Totals,
)

SUMMARY = "SUMMARY"
DIFF = "DIFF#"
LIST_INDEX = "runs"
LIST_PK = "RUNS"
TRANSACTION_ITEMS = 100  # TransactWriteItems' limit


def _pk(run_id: str) -> str:
    return f"RUN#{run_id}"


def _diff_sk(number: int) -> str:
    return f"{DIFF}{number:05d}"


def run_to_item(run: ReconciliationRun) -> dict[str, Any]:
    check = run.payout_check
    return to_item(
        {
            "pk": _pk(run.id),
            "sk": SUMMARY,
            "runs_pk": LIST_PK,
            "started_sk": f"{run.started_at}#{run.id}",
            "run_id": run.id,
            "kind": run.kind,
            "status": str(run.status),
            "attempt": run.attempt,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "period_from": run.period_from,
            "period_to": run.period_to,
            "payout_id": run.payout_id,
            "failure_code": run.failure_code,
            "failure_message": run.failure_message,
            "currencies": list(run.currencies) or None,
            "stripe_transactions": run.stripe_transactions,
            "ledger_entries": run.ledger_entries,
            "matched": run.matched,
            "unexplained": run.unexplained,
            "counts": dict(run.counts) or None,
            "payout_check": None
            if check is None
            else {
                "status": check.status,
                "payout_amount": check.payout_amount,
                "transactions_net": check.transactions_net,
                "transactions": check.transactions,
                "pending": list(check.pending),
                "reason": check.reason,
            },
        }
    )


def run_from_item(item: dict[str, Any]) -> ReconciliationRun:
    values = from_item(item)
    check = values.get("payout_check")
    return ReconciliationRun(
        id=values["run_id"],
        kind=values["kind"],
        status=RunStatus(values["status"]),
        attempt=values["attempt"],
        started_at=values["started_at"],
        period_from=values.get("period_from"),
        period_to=values.get("period_to"),
        payout_id=values.get("payout_id"),
        finished_at=values.get("finished_at"),
        failure_code=values.get("failure_code"),
        failure_message=values.get("failure_message"),
        currencies=tuple(values.get("currencies") or ()),
        stripe_transactions=values.get("stripe_transactions", 0),
        ledger_entries=values.get("ledger_entries", 0),
        matched=values.get("matched", 0),
        counts=dict(values.get("counts") or {}),
        payout_check=None
        if check is None
        else PayoutCheck(
            status=check["status"],
            payout_amount=check["payout_amount"],
            transactions_net=check["transactions_net"],
            transactions=check["transactions"],
            pending=tuple(check.get("pending") or ()),
            reason=check.get("reason", ""),
        ),
    )


def difference_to_item(run: ReconciliationRun, difference: Difference) -> dict[str, Any]:
    return to_item(
        {
            "pk": _pk(run.id),
            "sk": _diff_sk(difference.number),
            "attempt": run.attempt,
            "number": difference.number,
            "class": str(difference.difference_class),
            "currency": difference.currency,
            "stripe_object_id": difference.stripe_object_id,
            "stripe_object_type": difference.stripe_object_type,
            "stripe_transaction_ids": list(difference.stripe_transaction_ids) or None,
            "ledger_entry_ids": list(difference.ledger_entry_ids) or None,
            "payment_id": difference.payment_id,
            "refund_id": difference.refund_id,
            "payout_id": difference.payout_id,
            "stripe_net": difference.stripe.net,
            "stripe_fee": difference.stripe.fee,
            "ledger_net": difference.ledger.net,
            "ledger_fee": difference.ledger.fee,
            "detail": difference.detail,
        }
    )


def difference_from_item(item: dict[str, Any]) -> Difference:
    values = from_item(item)
    return Difference(
        difference_class=DifferenceClass(values["class"]),
        currency=values["currency"],
        stripe_object_id=values.get("stripe_object_id"),
        stripe_object_type=values.get("stripe_object_type"),
        stripe_transaction_ids=tuple(values.get("stripe_transaction_ids") or ()),
        ledger_entry_ids=tuple(values.get("ledger_entry_ids") or ()),
        payment_id=values.get("payment_id"),
        refund_id=values.get("refund_id"),
        payout_id=values.get("payout_id"),
        stripe=Totals(values["stripe_net"], values["stripe_fee"]),
        ledger=Totals(values["ledger_net"], values["ledger_fee"]),
        detail=values.get("detail", ""),
        number=values["number"],
    )


class DynamoReconciliationRuns(TableAdapter):
    def get(self, run_id: str) -> ReconciliationRun | None:
        response = self._db.get_item(
            TableName=self.table,
            Key={"pk": {"S": _pk(run_id)}, "sk": {"S": SUMMARY}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return run_from_item(item) if item else None

    def start(self, run: ReconciliationRun, previous: ReconciliationRun | None, stale_before: str) -> bool:
        if previous is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "attempt = :attempt AND (#status <> :running OR started_at < :stale)",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":attempt": {"N": str(previous.attempt)},
                    ":running": {"S": str(RunStatus.RUNNING)},
                    ":stale": {"S": stale_before},
                },
            }
        try:
            self._db.put_item(TableName=self.table, Item=run_to_item(run), **condition)
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def complete(self, run: ReconciliationRun, differences: Sequence[Difference]) -> None:
        puts = [{"Put": {"TableName": self.table, "Item": difference_to_item(run, d)}} for d in differences]
        self._transact(puts)
        if run.attempt > 1:  # only an earlier attempt can have left differences beyond these
            stale = self._diff_keys(run.id, first=len(differences))
            self._transact([{"Delete": {"TableName": self.table, "Key": key}} for key in stale])
        self._put_latest(run)

    def fail(self, run: ReconciliationRun) -> None:
        self._put_latest(run)

    def differences(self, run_id: str, limit: int, start: dict[str, Any] | None) -> Page[Difference]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :diff)",
            "ExpressionAttributeValues": {":pk": {"S": _pk(run_id)}, ":diff": {"S": DIFF}},
            "Limit": limit,
            "ConsistentRead": True,  # as the summary is read: both as the last attempt left them
        }
        if start:
            request["ExclusiveStartKey"] = to_item(start)
        response = self._db.query(**request)
        last = response.get("LastEvaluatedKey")
        items = [difference_from_item(item) for item in response.get("Items", [])]
        return Page(items, from_item(last) if last else None)

    def with_all_differences(self, run_id: str) -> tuple[ReconciliationRun | None, list[Difference]]:
        """One Query of the run's partition: its DIFF# items, then SUMMARY (which sorts after them)."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": _pk(run_id)}},
            "ConsistentRead": True,
        }
        items = self._query_all(**request)
        summary = next((item for item in items if item["sk"]["S"] == SUMMARY), None)
        differences = [difference_from_item(item) for item in items if item["sk"]["S"].startswith(DIFF)]
        return (run_from_item(summary) if summary else None), differences

    def page(self, limit: int, start: dict[str, Any] | None) -> Page[ReconciliationRun]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": LIST_INDEX,
            "KeyConditionExpression": "runs_pk = :runs",
            "ExpressionAttributeValues": {":runs": {"S": LIST_PK}},
            "ScanIndexForward": False,  # the most recently started first
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = to_item(start)
        response = self._db.query(**request)
        last = response.get("LastEvaluatedKey")
        return Page(
            [run_from_item(item) for item in response.get("Items", [])], from_item(last) if last else None
        )

    # ------------------------------------------------------------------ internals

    def _put_latest(self, run: ReconciliationRun) -> None:
        """The summary, unless a later attempt started meanwhile (its result is the run's now)."""
        try:
            self._db.put_item(
                TableName=self.table,
                Item=run_to_item(run),
                ConditionExpression="attempt = :attempt",
                ExpressionAttributeValues={":attempt": {"N": str(run.attempt)}},
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return

    def _diff_keys(self, run_id: str, first: int) -> list[dict[str, Any]]:
        """Keys of the DIFF# items numbered `first` and above."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": _pk(run_id)},
                ":first": {"S": _diff_sk(first)},
                ":last": {"S": f"{DIFF}~"},  # after every number
            },
            "ProjectionExpression": "pk, sk",
        }
        return self._query_all(**request)

    def _transact(self, actions: list[dict[str, Any]]) -> None:
        for start in range(0, len(actions), TRANSACTION_ITEMS):
            self._db.transact_write_items(TransactItems=actions[start : start + TRANSACTION_ITEMS])
