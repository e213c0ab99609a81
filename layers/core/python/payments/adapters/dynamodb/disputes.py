"""The admins' read model of disputes in the payments table (docs/disputes.md, Data model).

- `DISPUTE#<dispute_id>` / `DISPUTE`: one record per dispute (payment id, amount, status, reason,
  Stripe's evidence details, the files we uploaded, the deadline notice copy, `version`). Keyed by the
  dispute, not under its payment: the admins' routes name only the dispute, and one GetItem finds it.
- On the sparse `disputes` index (only these items carry its keys): `dispute_pk = DISPUTES#<status>`,
  `due_sk = <due_by, RFC 3339>#<dispute_id>` (`~#<dispute_id>` without a deadline, after every date), so
  a status lists soonest due first and the deadline watcher reads a range of it.

One partition per status is deliberate (no shards): disputes are a fraction of a percent of payments
and each changes a handful of times over weeks, orders of magnitude below what one index partition
takes (docs/disputes.md, Hot keys). Writes are conditioned on the version they replace.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from payments.adapters.dynamodb.codec import from_item, to_item, value
from payments.adapters.dynamodb.table import TableAdapter
from payments.application.ports import Page
from payments.domain.dispute import DisputeRecord, EvidenceFile
from payments.domain.errors import ConcurrentUpdate

RECORD = "DISPUTE"
INDEX = "disputes"
NO_DEADLINE = "~"  # sorts after every RFC 3339 time


def _key(dispute_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"DISPUTE#{dispute_id}"}, "sk": {"S": RECORD}}


def _index_pk(status: str) -> str:
    return f"DISPUTES#{status}"


def _time(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat().replace("+00:00", "Z")


def record_to_item(record: DisputeRecord) -> dict[str, Any]:
    due = _time(record.due_by) if record.due_by is not None else NO_DEADLINE
    return to_item(
        {
            "pk": f"DISPUTE#{record.id}",
            "sk": RECORD,
            "dispute_pk": _index_pk(record.status),
            "due_sk": f"{due}#{record.id}",
            "dispute_id": record.id,
            "payment_id": record.payment_id,
            "status": record.status,
            "reason": record.reason,
            "amount": record.amount,
            "currency": record.currency,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "version": record.version,
            "charge_id": record.charge_id,
            "payment_intent_id": record.payment_intent_id,
            "due_by": record.due_by,
            "has_evidence": record.has_evidence,
            "past_due": record.past_due,
            "submission_count": record.submission_count,
            "files": [
                {
                    "field": f.field,
                    "file_id": f.file_id,
                    "filename": f.filename,
                    "type": f.type,
                    "size": f.size,
                }
                for f in record.files
            ]
            or None,
            "deadline_notice_hours": record.deadline_notice_hours,
        }
    )


def record_from_item(item: dict[str, Any]) -> DisputeRecord:
    values = from_item(item)
    return DisputeRecord(
        id=values["dispute_id"],
        payment_id=values["payment_id"],
        status=values["status"],
        reason=values["reason"],
        amount=values["amount"],
        currency=values["currency"],
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        version=values["version"],
        charge_id=values.get("charge_id"),
        payment_intent_id=values.get("payment_intent_id"),
        due_by=values.get("due_by"),
        has_evidence=values.get("has_evidence", False),
        past_due=values.get("past_due", False),
        submission_count=values.get("submission_count", 0),
        files=tuple(EvidenceFile(**f) for f in values.get("files") or ()),
        deadline_notice_hours=values.get("deadline_notice_hours"),
    )


class DynamoDisputes(TableAdapter):
    def get(self, dispute_id: str) -> DisputeRecord | None:
        item = self._db.get_item(TableName=self.table, Key=_key(dispute_id), ConsistentRead=True).get("Item")
        return record_from_item(item) if item else None

    def save(self, record: DisputeRecord) -> None:
        request: dict[str, Any] = {"TableName": self.table, "Item": record_to_item(record)}
        if record.version == 1:
            request["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            request["ConditionExpression"] = "version = :expected"
            request["ExpressionAttributeValues"] = {":expected": value(record.version - 1)}
        try:
            self._db.put_item(**request)
        except self._db.exceptions.ConditionalCheckFailedException:
            raise ConcurrentUpdate(f"dispute {record.id} changed concurrently") from None

    def page(self, status: str, limit: int, start: dict[str, Any] | None) -> Page[DisputeRecord]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": INDEX,
            "KeyConditionExpression": "dispute_pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": _index_pk(status)}},
            "ScanIndexForward": True,  # soonest due first
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = to_item(start)
        response = self._db.query(**request)
        last = response.get("LastEvaluatedKey")
        items = [record_from_item(item) for item in response.get("Items", [])]
        return Page(items, from_item(last) if last else None)

    def due_before(self, status: str, before: int) -> list[DisputeRecord]:
        items = self._query_all(
            IndexName=INDEX,
            KeyConditionExpression="dispute_pk = :pk AND due_sk < :before",
            ExpressionAttributeValues={":pk": {"S": _index_pk(status)}, ":before": {"S": _time(before)}},
        )
        return [record_from_item(item) for item in items]
