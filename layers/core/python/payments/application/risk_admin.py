"""The admin API's use cases on the risk rules and the blocklist: each change is stored with its audit
record in one transaction, then announced (RiskRulesChanged, BlocklistEntryAdded, BlocklistEntryRemoved).

The change's id derives from the request's Idempotency-Key. When the publish fails the request fails
(5xx, which idempotency does not keep); its retry finds the change already stored under that id and
publishes the same event (same id) again instead of changing anything twice. Consumers dedupe on the id.
A removal without a key republishes its event whenever the removed entry is asked for again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from payments.application.clock import now
from payments.application.commit import publish_or_fail
from payments.application.ports import EventPublisher, Page, RiskAdmin, StoredRules
from payments.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from payments.domain.events import BlocklistEntryData, DomainEvent, RiskRulesData
from payments.domain.ids import derived_id
from payments.domain.risk_rules import AuditRecord, BlocklistEntry, BlocklistKind, RiskRules

RULES_SUBJECT = "rules"


def change_id(operation: str, author: str, idempotency_key: str | None) -> str:
    """The change a request makes: the same for its retries (a removal sent without a key has no retry)."""
    return derived_id("chg", operation, author, idempotency_key or uuid.uuid4().hex)


def current_rules(admin: RiskAdmin) -> RiskRules:
    return admin.stored_rules().rules


def replace_rules(
    admin: RiskAdmin, publisher: EventPublisher, wanted: RiskRules, author: str, change: str
) -> RiskRules:
    """Store `wanted` in place of the version it names (`wanted.version`, the one the admin read) as the
    next version; a stale version is a 409 `rules_version_stale`."""
    stored = admin.stored_rules()
    if stored.change_id == change:
        publish_or_fail(publisher, rules_event(stored))  # this request's change, stored by an earlier attempt
        return stored.rules
    if wanted.version != stored.rules.version:
        raise Conflict(
            "rules_version_stale",
            f"version {wanted.version} is not the current version {stored.rules.version}; read the rules "
            "again and apply your change to them",
            param="version",
            current_version=stored.rules.version,
        )
    rules = wanted.model_copy(update={"version": wanted.version + 1})
    at = now()
    audit = AuditRecord(
        change_id=change,
        action="rules_replaced",
        subject=RULES_SUBJECT,
        author=author,
        at=at,
        before=stored.rules.model_dump(mode="json"),
        after=rules.model_dump(mode="json"),
    )
    admin.replace_rules(rules, audit)
    publish_or_fail(publisher, rules_event(StoredRules(rules, change, at, author)))
    return rules


@dataclass(frozen=True)
class NewEntry:
    """What an admin asks to block (its value already checked against its kind)."""

    kind: BlocklistKind
    value: str
    reason: str
    expires_at: str | None = None


def add_entry(
    admin: RiskAdmin, publisher: EventPublisher, wanted: NewEntry, author: str, change: str
) -> BlocklistEntry:
    """Block `wanted`; the entry's id is the change's, so a retry finds the entry its first attempt
    stored (and announces it again). A live entry of the same kind and value is a 409
    `blocklist_entry_exists`."""
    entry_id = "blk_" + change.removeprefix("chg_")
    at = now()
    if wanted.expires_at is not None and wanted.expires_at <= at:
        raise ValidationFailed([FieldError("expires_at", "must be in the future")])
    entry = BlocklistEntry(
        entry_id=entry_id,
        kind=wanted.kind,
        value=wanted.value,
        reason=wanted.reason,
        author=author,
        created_at=at,
        expires_at=wanted.expires_at,
    )
    audit = AuditRecord(
        change_id=change,
        action="blocklist_entry_added",
        subject=entry_id,
        author=author,
        at=at,
        after=entry.model_dump(mode="json"),
    )
    if not admin.add_entry(entry, audit):
        record = admin.record(entry_id)
        if record is None:  # removed, and its tombstone gone since: a very late retry
            raise NotFound(f"blocklist entry {entry_id} was removed since", param="entry_id")
        entry, audit = record.entry, record.added
    publish_or_fail(publisher, entry_event(entry, audit))
    return entry


def remove_entry(
    admin: RiskAdmin, publisher: EventPublisher, entry_id: str, author: str, change: str
) -> None:
    """Remove the entry (in force or expired); 404 when there is none, or it is removed already."""
    record = admin.record(entry_id)
    if record is None:
        raise NotFound(f"no blocklist entry {entry_id}", param="entry_id")
    if record.removed is not None:
        # Its removal may not have been announced: the request that removed it may have failed after.
        publish_or_fail(publisher, entry_event(record.entry, record.removed))
        if record.removed.change_id == change:
            return
        raise NotFound(f"blocklist entry {entry_id} was removed already", param="entry_id")
    audit = AuditRecord(
        change_id=change,
        action="blocklist_entry_removed",
        subject=entry_id,
        author=author,
        at=now(),
        before=record.entry.model_dump(mode="json"),
    )
    admin.remove_entry(record, audit)
    publish_or_fail(publisher, entry_event(record.entry, audit))


def list_entries(
    admin: RiskAdmin, kind: BlocklistKind | None, limit: int, start: dict[str, Any] | None
) -> Page[BlocklistEntry]:
    return admin.entries(kind, now(), limit, start)


def audit_trail(admin: RiskAdmin, limit: int, start: dict[str, Any] | None) -> Page[AuditRecord]:
    return admin.audit(limit, start)


# --------------------------------------------------------------------------- events


def rules_event(stored: StoredRules) -> DomainEvent:
    """RiskRulesChanged for the stored rules (`risk_rules:v<version>`)."""
    rules = stored.rules
    data = RiskRulesData(rules=rules, previous_version=rules.version - 1, changed_by=stored.changed_by or "")
    return DomainEvent(
        event_id=f"risk_rules:v{rules.version}",
        event_type="RiskRulesChanged",
        version=rules.version,
        occurred_at=stored.changed_at or "",
        data=data.model_dump(mode="json"),
    )


def entry_event(entry: BlocklistEntry, audit: AuditRecord) -> DomainEvent:
    """BlocklistEntryAdded (`<entry_id>:v1`) or, for a removal's audit, BlocklistEntryRemoved (`:v2`)."""
    removed = audit.action == "blocklist_entry_removed"
    version = 2 if removed else 1
    return DomainEvent(
        event_id=f"{entry.entry_id}:v{version}",
        event_type="BlocklistEntryRemoved" if removed else "BlocklistEntryAdded",
        version=version,
        occurred_at=audit.at,
        data=BlocklistEntryData(entry=entry, changed_by=audit.author).model_dump(mode="json"),
    )
