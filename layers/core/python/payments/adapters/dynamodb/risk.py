"""The risk table: the rules and the blocklist ops change without a deploy, and the audit of each change.

- `RULES` / `CURRENT`: the rules in force (`rules`, a map) with `version` and the last change's
  `change_id`, `changed_at`, `changed_by`. Absent: the defaults (version 0) are in force.
- `BLOCK#<kind>#<value>` / `ENTRY`: an entry, keyed by what it blocks, so the checks read exactly the
  keys of a payment's values; `list_pk = BLOCKLIST` and `list_sk = <kind>#<created_at>#<entry_id>` for
  the listing (index `blocklist`); `expiration` (Unix time of expires_at) lets TTL delete it later.
- `BLOCKID#<entry_id>` / `ENTRY`: the entry by its id (for DELETE by id) with its `added` audit and,
  once removed, its `removed` audit: a tombstone kept TOMBSTONE_SECONDS, so a retried removal finds it.
- `AUDIT` / `<at>#<change_id>`: one audit record per change (never expires), newest last.

The pre-authorization checks keep their counters here too, under `VELOCITY#` keys. Every change is one
TransactWriteItems: the items it changes on their conditions and its AUDIT item. Only GetItem, Query,
PutItem, DeleteItem and TransactGetItems/TransactWriteItems of them are used: what the catalog's
access levels grant.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from payments.adapters.dynamodb.codec import from_item, to_item
from payments.adapters.dynamodb.reads import get_together
from payments.adapters.dynamodb.table import TableAdapter
from payments.application.ports import BlocklistRecord, Page, StoredRules
from payments.domain.errors import ConcurrentUpdate, Conflict, NotFound, StoreUnavailable
from payments.domain.risk_rules import (
    AuditRecord,
    BlocklistEntry,
    BlocklistKind,
    RiskRules,
    blocklist_value_problem,
)

RULES_KEY = {"pk": {"S": "RULES"}, "sk": {"S": "CURRENT"}}
ENTRY = "ENTRY"
AUDIT_PK = "AUDIT"
LIST_INDEX = "blocklist"
LIST_PK = "BLOCKLIST"
# A removed entry's tombstone outlives the API's idempotency records (a day) by far.
TOMBSTONE_SECONDS = 7 * 24 * 3600
TRANSACT_GET_ITEMS = 100  # TransactGetItems' limit
TRANSACT_ATTEMPTS = 4
TRANSIENT_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)


def block_key(kind: str, value: str) -> dict[str, Any]:
    return {"pk": {"S": f"BLOCK#{kind}#{value}"}, "sk": {"S": ENTRY}}


def _id_key(entry_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"BLOCKID#{entry_id}"}, "sk": {"S": ENTRY}}


def _plain(key: dict[str, Any]) -> dict[str, str]:
    """A key's attributes as the plain values an item is written from."""
    return {name: value["S"] for name, value in key.items()}


def _unix(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())


def _entry_values(entry: BlocklistEntry) -> dict[str, Any]:
    return entry.model_dump(mode="json")


def _entry_from(values: Mapping[str, Any]) -> BlocklistEntry:
    return BlocklistEntry.model_validate({k: values.get(k) for k in BlocklistEntry.model_fields})


def _audit_item(audit: AuditRecord) -> dict[str, Any]:
    return {
        "Put": {
            "Item": to_item({"pk": AUDIT_PK, "sk": f"{audit.at}#{audit.change_id}", **audit.model_dump()}),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def _record_item(record: BlocklistRecord, expiration: int | None) -> dict[str, Any]:
    """An entry's item by its id: the entry, its addition and, once removed, its removal."""
    removed = {"removed": record.removed.model_dump()} if record.removed else {}
    return to_item(
        {
            **_plain(_id_key(record.entry.entry_id)),
            "entry": _entry_values(record.entry),
            "added": record.added.model_dump(),
            **removed,
            "expiration": expiration,
        }
    )


def _audit_from(values: Mapping[str, Any]) -> AuditRecord:
    return AuditRecord.model_validate({k: values.get(k) for k in AuditRecord.model_fields})


class DynamoRiskPolicy(TableAdapter):
    """The checks' side: the rules, cached for `cache_seconds` of `clock` (wall-clock seconds), and the
    blocklist, read key by key and never cached."""

    def __init__(self, table: str, cache_seconds: float, clock: Callable[[], float] = time.time) -> None:
        super().__init__(table)
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cached: tuple[float, RiskRules] | None = None

    def rules(self) -> RiskRules:
        now = self.clock()
        if self._cached is not None:
            read_at, rules = self._cached
            if read_at <= now < read_at + self.cache_seconds:  # a clock set back reads again too
                return rules
        item = self._db.get_item(TableName=self.table, Key=RULES_KEY).get("Item")
        rules = RiskRules.model_validate(from_item(item)["rules"]) if item else RiskRules()
        self._cached = (now, rules)
        return rules

    def blocklisted(self, candidates: Mapping[BlocklistKind, Iterable[str]], at: str) -> list[BlocklistEntry]:
        wanted = {
            (kind, value)
            for kind, values in candidates.items()
            for value in values
            if isinstance(value, str) and blocklist_value_problem(kind, value) is None
        }
        keys = [block_key(kind, value) for kind, value in sorted(wanted)]
        found: list[BlocklistEntry] = []
        for start in range(0, len(keys), TRANSACT_GET_ITEMS):
            for item in get_together(self.table, keys[start : start + TRANSACT_GET_ITEMS]):
                if item is not None:
                    entry = _entry_from(from_item(item))
                    if entry.active_at(at):
                        found.append(entry)
        return found


class DynamoRiskAdmin(TableAdapter):
    """The admin API's side: consistent reads, conditional writes, each with its audit item."""

    def stored_rules(self) -> StoredRules:
        item = self._db.get_item(TableName=self.table, Key=RULES_KEY, ConsistentRead=True).get("Item")
        if not item:
            return StoredRules(RiskRules())
        values = from_item(item)
        return StoredRules(
            RiskRules.model_validate(values["rules"]),
            change_id=values["change_id"],
            changed_at=values["changed_at"],
            changed_by=values["changed_by"],
        )

    def replace_rules(self, rules: RiskRules, audit: AuditRecord) -> None:
        previous = rules.version - 1
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if previous == 0
            else {
                "ConditionExpression": "version = :previous",
                "ExpressionAttributeValues": {":previous": {"N": str(previous)}},
            }
        )
        put = {
            "Put": {
                "Item": to_item(
                    {
                        **_plain(RULES_KEY),
                        "version": rules.version,
                        "rules": rules.model_dump(mode="json"),
                        "change_id": audit.change_id,
                        "changed_at": audit.at,
                        "changed_by": audit.author,
                    }
                ),
                **condition,
            }
        }
        if self._transact([put, _audit_item(audit)]):
            raise Conflict(
                "rules_version_stale",
                f"the rules changed since version {previous} was read; read them again and apply your "
                "change to the current version",
                param="version",
            )

    def record(self, entry_id: str) -> BlocklistRecord | None:
        item = self._db.get_item(TableName=self.table, Key=_id_key(entry_id), ConsistentRead=True).get("Item")
        if not item:
            return None
        values = from_item(item)
        removed = values.get("removed")
        return BlocklistRecord(
            entry=_entry_from(values["entry"]),
            added=_audit_from(values["added"]),
            removed=_audit_from(removed) if removed else None,
        )

    def add_entry(self, entry: BlocklistEntry, audit: AuditRecord) -> bool:
        key = block_key(entry.kind, entry.value)
        expiration = _unix(entry.expires_at) if entry.expires_at else None
        put_entry = {
            "Put": {
                "Item": to_item(
                    {
                        **_plain(key),
                        **_entry_values(entry),
                        "list_pk": LIST_PK,
                        "list_sk": f"{entry.kind}#{entry.created_at}#{entry.entry_id}",
                        "expiration": expiration,
                    }
                ),
                # One entry per kind and value; one no longer in force (not yet deleted by TTL) gives way.
                "ConditionExpression": "attribute_not_exists(pk) OR expires_at <= :now",
                "ExpressionAttributeValues": {":now": {"S": entry.created_at}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        put_record = {
            "Put": {
                "Item": _record_item(BlocklistRecord(entry=entry, added=audit), expiration),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        failed = self._transact([put_entry, put_record, _audit_item(audit)])
        if not failed:
            return True
        if failed[1] is not None:
            return False  # an entry with this id exists: the same request's earlier attempt stored it
        if failed[0] is not None:
            holder = from_item(failed[0]).get("entry_id")
            raise Conflict(
                "blocklist_entry_exists",
                f"an entry for this {entry.kind} is in force already; remove it first to replace it",
                param="value",
                entry_id=holder,
            )
        raise ConcurrentUpdate(f"the audit of change {audit.change_id} exists already; retry")

    def remove_entry(self, record: BlocklistRecord, audit: AuditRecord) -> None:
        entry = record.entry
        delete_entry = {
            "Delete": {
                "Key": block_key(entry.kind, entry.value),
                "ConditionExpression": "entry_id = :id",
                "ExpressionAttributeValues": {":id": {"S": entry.entry_id}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        tombstone = {
            "Put": {
                "Item": _record_item(
                    BlocklistRecord(entry=entry, added=record.added, removed=audit),
                    _unix(audit.at) + TOMBSTONE_SECONDS,
                ),
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(removed)",
            }
        }
        failed = self._transact([delete_entry, tombstone, _audit_item(audit)])
        if failed and failed[0] is not None:
            # Expired, then deleted by TTL or replaced by a new entry for its value: nothing to remove.
            raise NotFound(f"blocklist entry {entry.entry_id} expired and is gone", param="entry_id")
        if failed:
            raise ConcurrentUpdate(f"blocklist entry {entry.entry_id} changed meanwhile; retry")

    def entries(
        self, kind: BlocklistKind | None, at: str, limit: int, start: dict[str, Any] | None
    ) -> Page[BlocklistEntry]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": LIST_INDEX,
            "KeyConditionExpression": "list_pk = :list"
            + (" AND begins_with(list_sk, :kind)" if kind else ""),
            "FilterExpression": "attribute_not_exists(expires_at) OR expires_at > :now",
            "ExpressionAttributeValues": {
                ":list": {"S": LIST_PK},
                ":now": {"S": at},
                **({":kind": {"S": f"{kind}#"}} if kind else {}),
            },
            "ScanIndexForward": False,  # newest first within a kind
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = to_item(start)
        response = self._db.query(**request)
        last = response.get("LastEvaluatedKey")
        items = [_entry_from(from_item(item)) for item in response.get("Items", [])]
        return Page(items, from_item(last) if last else None)

    def audit(self, limit: int, start: dict[str, Any] | None) -> Page[AuditRecord]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :audit",
            "ExpressionAttributeValues": {":audit": {"S": AUDIT_PK}},
            "ScanIndexForward": False,  # newest first
            "Limit": limit,
            "ConsistentRead": True,
        }
        if start:
            request["ExclusiveStartKey"] = to_item(start)
        response = self._db.query(**request)
        last = response.get("LastEvaluatedKey")
        items = [_audit_from(from_item(item)) for item in response.get("Items", [])]
        return Page(items, from_item(last) if last else None)

    def _transact(self, operations: list[dict[str, Any]]) -> list[dict[str, Any] | None] | None:
        """Run the transaction on this table: None on success; when a condition failed, per operation
        the item as it was if that operation's condition failed (else None). Transient cancellations
        are retried, then raise StoreUnavailable."""
        for operation in operations:
            next(iter(operation.values()))["TableName"] = self.table
        for attempt in range(TRANSACT_ATTEMPTS):
            try:
                self._db.transact_write_items(TransactItems=operations)
            except self._db.exceptions.TransactionCanceledException as error:
                reasons = error.response.get("CancellationReasons") or []
                codes = [reason.get("Code", "None") for reason in reasons]
                if "ConditionalCheckFailed" in codes:
                    return [
                        (reason.get("Item") or {}) if reason.get("Code") == "ConditionalCheckFailed" else None
                        for reason in reasons
                    ]
                if not TRANSIENT_REASONS.intersection(codes):
                    raise
            else:
                return None
            time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not a secret
        raise StoreUnavailable("the risk store is busy; retry the request with the same Idempotency-Key")
