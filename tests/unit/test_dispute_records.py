"""The admins' dispute record and the deadline notices: the payment's forward-only rule, in any order of
news; each notice once; Stripe's evidence rules."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from payments.domain.dispute import (
    EVIDENCE_FIELDS,
    DisputeRecord,
    EvidenceFile,
    StripeDispute,
    announce_deadline,
    apply_dispute,
    file_type_of,
    notice_due,
    record_dispute,
)
from payments.domain.errors import Conflict
from payments.domain.events import PaymentData
from tests.support.payments import AT, captured_payment

DUE = 1_800_000_000
HOUR = 3600


def news(status: str, **kw) -> StripeDispute:
    values = {
        "id": "dp_1",
        "status": status,
        "reason": "fraudulent",
        "amount": 10_000,
        "currency": "usd",
        "due_by": DUE,
        **kw,
    }
    return StripeDispute(**values)


def replay(updates) -> DisputeRecord:
    record = None
    for update in updates:
        record = record_dispute(record, update, "pay_1", AT) or record
    assert record is not None
    return record


FLOW = [
    news("needs_response"),
    news("needs_response", has_evidence=True),
    news("under_review", has_evidence=True, submission_count=1),
    news("lost", has_evidence=True, submission_count=1),
]


def test_the_first_news_makes_the_record():
    record = record_dispute(None, news("needs_response", charge="ch_1", payment_intent="pi_1"), "pay_1", AT)
    assert record == DisputeRecord(
        id="dp_1",
        payment_id="pay_1",
        status="needs_response",
        reason="fraudulent",
        amount=10_000,
        currency="usd",
        created_at=AT,
        updated_at=AT,
        charge_id="ch_1",
        payment_intent_id="pi_1",
        due_by=DUE,
    )


def test_the_same_news_twice_changes_nothing():
    record = replay(FLOW[:2])
    assert record_dispute(record, FLOW[1], "pay_1", AT) is None


@pytest.mark.parametrize("order", list(itertools.permutations(FLOW)), ids=str)
def test_any_order_of_news_ends_in_the_same_record(order):
    expected = replay(FLOW)
    assert dataclasses.replace(replay(order), version=0) == dataclasses.replace(expected, version=0)
    assert (expected.status, expected.submission_count, expected.has_evidence) == ("lost", 1, True)


def test_record_and_payment_move_by_the_one_rule():
    """Whatever order, the record's status and reason are the payment's dispute's."""
    for order in itertools.permutations([*FLOW, news("needs_response", reason="general")]):
        payment = captured_payment()
        for update in order:
            change = apply_dispute(payment, update, AT)
            payment = change.payment if change else payment
        record = replay(order)
        assert payment.dispute is not None
        assert (record.status, record.reason) == (payment.dispute.status, payment.dispute.reason), order


def test_the_deadline_follows_current_news_only():
    record = replay([news("needs_response"), news("needs_response", due_by=DUE + HOUR)])
    assert record.due_by == DUE + HOUR  # Stripe moved it while waiting for us
    closed = replay([news("lost", due_by=DUE), news("needs_response", due_by=DUE + 2 * HOUR)])
    assert closed.due_by == DUE


def test_files_name_their_fields_the_newest_last():
    first = EvidenceFile("receipt", "file_1", "a.pdf", "pdf", 10)
    record = record_dispute(None, news("needs_response"), "pay_1", AT, (first,))
    newer = EvidenceFile("receipt", "file_2", "b.pdf", "pdf", 12)
    other = EvidenceFile("refund_policy", "file_3", "c.png", "png", 9)
    updated = record_dispute(record, news("needs_response"), "pay_1", AT, (newer, other))
    assert updated is not None
    assert (updated.files, updated.version) == ((newer, other), 2)


@pytest.mark.parametrize(
    ("status", "submissions", "answerable", "acceptable"),
    [
        ("needs_response", 0, None, None),
        ("warning_needs_response", 0, None, None),
        ("under_review", 1, "evidence_already_submitted", "evidence_already_submitted"),
        ("lost", 1, "dispute_closed", "dispute_closed"),
        ("won", 0, "dispute_closed", "dispute_closed"),
    ],
)
def test_what_a_dispute_still_takes(status, submissions, answerable, acceptable):
    record = replay([news(status, submission_count=submissions)])
    for check, expected in ((record.ensure_answerable, answerable), (record.ensure_acceptable, acceptable)):
        if expected is None:
            check()
        else:
            with pytest.raises(Conflict) as refused:
                check()
            assert refused.value.code == expected


@pytest.mark.parametrize(
    ("left_hours", "notice"),
    [(100, None), (72.01, None), (72, 72), (30, 72), (24, 24), (1, 24), (0, None), (-5, None)],
)
def test_the_tightest_notice_crossed(left_hours, notice):
    assert notice_due(DUE, DUE - int(left_hours * HOUR)) == notice


def test_each_notice_is_announced_once_and_a_wider_one_never_after_a_tighter():
    record = replay([news("needs_response")])
    opened = apply_dispute(captured_payment(), news("needs_response"), AT)
    assert opened is not None
    disputed = opened.payment
    change = announce_deadline(disputed, record, 72, "2027-01-15T08:00:00.000Z", AT)
    assert change is not None
    assert change.event.event_type == "DisputeDeadlineApproaching"
    assert PaymentData.model_validate(change.event.data).deadline.hours == 72
    announced = change.payment
    assert announce_deadline(announced, record, 72, "x", AT) is None
    tighter = announce_deadline(announced, record, 24, "x", AT)
    assert tighter is not None
    assert tighter.payment.dispute.deadline_notice_hours == 24
    assert announce_deadline(tighter.payment, record, 72, "x", AT) is None
    # Its dispute news keeps the mark (the dispute changes, the notice stays given).
    later = apply_dispute(tighter.payment, news("needs_response", reason="general"), AT)
    assert later is not None
    assert later.payment.dispute.deadline_notice_hours == 24


def test_no_notice_once_the_dispute_no_longer_waits_for_us():
    reviewed = apply_dispute(captured_payment(), news("under_review"), AT)
    assert reviewed is not None
    assert announce_deadline(reviewed.payment, replay([news("needs_response")]), 72, "x", AT) is None
    waiting = apply_dispute(captured_payment(), news("needs_response"), AT)
    assert waiting is not None
    assert announce_deadline(waiting.payment, replay([news("under_review")]), 72, "x", AT) is None
    assert announce_deadline(captured_payment(), replay([news("needs_response")]), 72, "x", AT) is None


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"%PDF-1.7 ...", "pdf"),
        (b"\xff\xd8\xff\xdb...", "jpg"),
        (b"\x89PNG\r\n\x1a\n...", "png"),
        (b"GIF89a", None),
        (b"", None),
        (b"PDF-1.7", None),
    ],
)
def test_evidence_files_are_known_by_their_content(content, kind):
    assert file_type_of(content) == kind


def test_the_emulator_takes_the_same_evidence_fields():
    from infra.local.stripe_emulator.resources import disputes

    assert set(disputes._EVIDENCE) == set(EVIDENCE_FIELDS)
    assert set(disputes._FILES) < set(EVIDENCE_FIELDS)
