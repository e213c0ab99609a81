"""The deadline watcher: disputes still waiting for our evidence, announced 72 and 24 hours before
Stripe's deadline (DisputeDeadlineApproaching), and counted once the deadline has passed.

It reads only the records that matter, from the disputes index: those in a status that needs a response
and due within the widest notice (no scan). Each notice is a change of the payment (its dispute's
`deadline_notice_hours`, the payment's version and the event's EVENT# outbox item in one transaction),
so a schedule that runs twice, or two runs that overlap, announce it once: the second decision finds
the notice recorded, or loses the version race and then finds it. The record keeps a copy of the mark,
which spares later runs the payment's read.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from payments.application.clock import rfc3339, utc_now
from payments.application.commit import Store
from payments.application.ports import DisputeRecords
from payments.domain.dispute import (
    DEADLINE_NOTICE_HOURS,
    NEEDS_RESPONSE,
    DisputeRecord,
    announce_deadline,
    notice_due,
)
from payments.domain.errors import ConcurrentUpdate, PaymentsError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadlineReport:
    announced: int  # DisputeDeadlineApproaching events committed by this run
    past_due: int  # disputes still waiting for our evidence after their deadline
    # Disputes whose notice could not be recorded (their payment missing or busy): tried again next run.
    failed: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"announced": self.announced, "past_due": self.past_due, "failed": list(self.failed)}


def watch_deadlines(store: Store, records: DisputeRecords) -> DeadlineReport:
    now = utc_now()
    moment, at = int(now.timestamp()), rfc3339(now)
    horizon = moment + max(DEADLINE_NOTICE_HOURS) * 3600
    announced = past_due = 0
    failed: list[str] = []
    for status in sorted(NEEDS_RESPONSE):
        for record in records.due_before(status, horizon):
            assert record.due_by is not None  # the index holds no deadline-less record before a time
            hours = notice_due(record.due_by, moment)
            if hours is None:
                past_due += 1
                continue
            if record.deadline_notice_hours is not None and record.deadline_notice_hours <= hours:
                continue  # announced already (the record's copy of the payment's mark)
            due_by = rfc3339(datetime.fromtimestamp(record.due_by, UTC))
            decide = functools.partial(announce_deadline, record=record, hours=hours, due_by=due_by, at=at)
            try:
                change = store.committed_change(record.payment_id, decide)
            except PaymentsError:
                # One dispute's trouble must not hold back the others' notices.
                logger.exception("dispute %s: its deadline notice was not recorded", record.id)
                failed.append(record.id)
                continue
            announced += change is not None
            _remember(records, replace(record, deadline_notice_hours=hours, version=record.version + 1))
    return DeadlineReport(announced=announced, past_due=past_due, failed=tuple(failed))


def _remember(records: DisputeRecords, record: DisputeRecord) -> None:
    """The record's copy of the mark: best effort (the payment holds the mark; a lost race leaves the
    next run to read the payment again, which then announces nothing)."""
    try:
        records.save(record)
    except ConcurrentUpdate:
        logger.info("dispute %s changed meanwhile; its notice mark is copied on a later run", record.id)
