"""The pure reconciliation rules (payments/domain/reconciliation.py): per Stripe object, Stripe's net and
fee against our stripe_balance and fee lines, every class of difference, timing at both period edges, the
payout check, the period's validation and the run's summary."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from payments.domain.errors import ValidationFailed
from payments.domain.ledger import Account, JournalEntry, Line
from payments.domain.reconciliation import (
    BalanceTransaction,
    DifferenceClass,
    PayoutAtStripe,
    Period,
    ReconciliationRun,
    RunStatus,
    check_payout,
    identify,
    intents_to_identify,
    parse_payout_id,
    parse_period,
    period_run_id,
    reconcile,
)

DAY = date(2026, 11, 26)
PERIOD = Period(DAY, DAY)


def at(day: str, time: str = "12:00:00") -> int:
    return int(datetime.fromisoformat(f"{day}T{time}+00:00").timestamp())


def txn(
    id_: str,
    source: str | None,
    net: int,
    fee: int = 0,
    *,
    day: str = "2026-11-26",
    time: str = "12:00:00",
    currency: str = "usd",
    source_type: str = "charge",
    payment_id: str | None = "pay_1",
    intent: str | None = None,
    type_: str = "charge",
    status: str = "available",
) -> BalanceTransaction:
    return BalanceTransaction(
        id=id_,
        type=type_,
        currency=currency,
        amount=net + fee,
        fee=fee,
        net=net,
        created=at(day, time),
        status=status,
        source_id=source,
        source_type=source_type if source else None,
        payment_id=payment_id,
        payment_intent_id=intent,
    )


def entry(
    entry_id: str,
    obj: str | None,
    *lines: tuple[Account, int],
    day: str = "2026-11-26",
    time: str = "12:00:00.000",
    currency: str = "usd",
    payment_id: str | None = "pay_1",
    payout_id: str | None = None,
) -> JournalEntry:
    return JournalEntry(
        entry_id=entry_id,
        source="PaymentProcessed",
        payment_id=payment_id,
        currency=currency,
        occurred_at=f"{day}T{time}Z",
        lines=tuple(Line(account, amount) for account, amount in lines),
        stripe_object_id=obj,
        payout_id=payout_id,
    )


def charge_entry(
    entry_id: str, obj: str | None, captured: int = 10_000, fee: int = 320, **kw
) -> JournalEntry:
    return entry(
        entry_id,
        obj,
        (Account.STRIPE_BALANCE, captured - fee),
        (Account.STRIPE_FEES, fee),
        (Account.SALES, -captured),
        **kw,
    )


def only(outcome):
    (difference,) = outcome.differences
    return difference


# --------------------------------------------------------------------------- matched


def test_a_charge_refund_and_dispute_match_object_by_object():
    stripe = [
        txn("txn_c", "ch_1", 9_680, 320),
        txn("txn_r", "re_1", -3_000, source_type="refund", type_="refund"),
        txn("txn_d", "dp_1", -11_500, 1_500, source_type="dispute", type_="adjustment"),
    ]
    ledger = [
        charge_entry("pay_1:v2", "ch_1"),
        entry("pay_1:v4", "re_1", (Account.REFUNDS, 3_000), (Account.STRIPE_BALANCE, -3_000)),
        entry(
            "pay_1:v5",
            "dp_1",
            (Account.DISPUTED_FUNDS, 10_000),
            (Account.DISPUTE_FEES, 1_500),
            (Account.STRIPE_BALANCE, -11_500),
        ),
        # Lost: no Stripe money moves, nothing to match.
        entry("pay_1:v6", "dp_1", (Account.CHARGEBACK_LOSSES, 10_000), (Account.DISPUTED_FUNDS, -10_000)),
    ]

    outcome = reconcile(stripe, ledger, PERIOD)

    assert outcome.differences == ()
    assert (outcome.matched, outcome.stripe_transactions, outcome.ledger_entries) == (3, 3, 4)
    assert outcome.unexplained == 0
    assert set(outcome.counts().values()) == {0}


def test_a_late_fee_and_a_won_dispute_match_as_sums_per_object():
    stripe = [
        txn("txn_c", "ch_1", 9_680, 320),
        txn("txn_w", "dp_1", -11_500, 1_500, source_type="dispute"),
        txn("txn_back", "dp_1", 11_500, -1_500, source_type="dispute"),  # reinstated, fee given back
    ]
    ledger = [
        charge_entry("pay_1:v2", "ch_1", fee=0),  # booked without the fee...
        entry("pay_1:v3", "ch_1", (Account.STRIPE_FEES, 320), (Account.STRIPE_BALANCE, -320)),  # ...then it
        entry(
            "pay_1:v4",
            "dp_1",
            (Account.DISPUTED_FUNDS, 10_000),
            (Account.DISPUTE_FEES, 1_500),
            (Account.STRIPE_BALANCE, -11_500),
        ),
        entry(
            "pay_1:v5",
            "dp_1",
            (Account.STRIPE_BALANCE, 11_500),
            (Account.DISPUTED_FUNDS, -10_000),
            (Account.DISPUTE_FEES, -1_500),
        ),
    ]

    outcome = reconcile(stripe, ledger, PERIOD)

    assert outcome.differences == ()
    assert outcome.matched == 3


def test_a_payout_and_its_failure_match_the_payout_entries():
    stripe = [
        txn("txn_p", "po_1", -9_680, source_type="payout", type_="payout", payment_id=None),
        txn("txn_f", "po_1", 9_680, source_type="payout", type_="payout_failure", payment_id=None),
    ]
    ledger = [
        entry(
            "po_1:v1",
            "po_1",
            (Account.STRIPE_BALANCE, -9_680),
            (Account.BANK, 9_680),
            payment_id=None,
            payout_id="po_1",
        ),
        entry(
            "po_1:v2",
            "po_1",
            (Account.STRIPE_BALANCE, 9_680),
            (Account.BANK, -9_680),
            payment_id=None,
            payout_id="po_1",
        ),
    ]

    assert reconcile(stripe, ledger, PERIOD).matched == 2


# --------------------------------------------------------------------------- each class


def test_missing_in_ledger_a_charge_of_ours_we_never_booked():
    difference = only(reconcile([txn("txn_c", "ch_1", 9_680, 320)], [], PERIOD))

    assert difference.difference_class is DifferenceClass.MISSING_IN_LEDGER
    assert (difference.stripe_object_id, difference.stripe_transaction_ids) == ("ch_1", ("txn_c",))
    assert (difference.payment_id, difference.ledger_entry_ids) == ("pay_1", ())
    assert (difference.stripe.amount, difference.stripe.fee, difference.ledger.amount) == (10_000, 320, 0)
    assert not difference.explained


def test_a_refund_named_only_by_its_payment_intent_is_ours_once_identified():
    stripe = [
        txn("txn_c", "ch_1", 9_680, 320),
        txn("txn_r", "re_1", -700, source_type="refund", payment_id=None, intent="pi_1"),
    ]
    ledger = [charge_entry("pay_1:v2", "ch_1")]
    assert intents_to_identify(stripe, ledger) == {"pi_1"}

    identified = identify(stripe, {"pi_1": "pay_1"})
    difference = only(reconcile(identified, ledger, PERIOD))

    assert difference.difference_class is DifferenceClass.MISSING_IN_LEDGER
    assert (difference.stripe_object_id, difference.payment_id) == ("re_1", "pay_1")


def test_sources_our_books_hold_are_not_asked_about():
    stripe = [txn("txn_r", "re_1", -700, source_type="refund", payment_id=None, intent="pi_1")]
    ledger = [entry("pay_1:v3", "re_1", (Account.REFUNDS, 700), (Account.STRIPE_BALANCE, -700))]

    assert intents_to_identify(stripe, ledger) == set()


def test_unknown_at_stripe_a_charge_made_in_the_dashboard():
    stripe = [txn("txn_x", "ch_x", 4_825, 175, payment_id=None, intent="pi_x")]
    difference = only(reconcile(identify(stripe, {"pi_x": None}), [], PERIOD))

    assert difference.difference_class is DifferenceClass.UNKNOWN_AT_STRIPE
    assert (difference.stripe_object_id, difference.stripe_transaction_ids) == ("ch_x", ("txn_x",))
    assert difference.payment_id is None


def test_a_payout_we_never_booked_is_ours():
    stripe = [txn("txn_p", "po_1", -5_000, source_type="payout", type_="payout", payment_id=None)]
    difference = only(reconcile(stripe, [], PERIOD))

    assert difference.difference_class is DifferenceClass.MISSING_IN_LEDGER
    assert difference.payout_id == "po_1"


def test_missing_at_stripe_we_booked_money_stripe_never_moved():
    ledger = [entry("pay_1:v4", "re_ghost", (Account.REFUNDS, 500), (Account.STRIPE_BALANCE, -500))]
    difference = only(reconcile([], ledger, PERIOD))

    assert difference.difference_class is DifferenceClass.MISSING_AT_STRIPE
    assert (difference.stripe_object_id, difference.stripe_transaction_ids) == ("re_ghost", ())
    assert (difference.ledger_entry_ids, difference.payment_id) == (("pay_1:v4",), "pay_1")
    assert (difference.ledger.net, difference.ledger.amount) == (-500, -500)


def test_an_entry_naming_no_stripe_object_is_missing_at_stripe_on_its_own():
    ledger = [charge_entry("pay_1:v2", None), charge_entry("pay_2:v2", None, payment_id="pay_2")]
    outcome = reconcile([], ledger, PERIOD)

    assert [d.ledger_entry_ids for d in outcome.differences] == [("pay_1:v2",), ("pay_2:v2",)]
    assert {d.difference_class for d in outcome.differences} == {DifferenceClass.MISSING_AT_STRIPE}
    assert {d.stripe_object_id for d in outcome.differences} == {None}


def test_entries_moving_no_stripe_money_need_no_stripe_counterpart():
    ledger = [
        entry("pay_1:v6", "dp_1", (Account.CHARGEBACK_LOSSES, 10_000), (Account.DISPUTED_FUNDS, -10_000))
    ]

    outcome = reconcile([], ledger, PERIOD)

    assert (outcome.differences, outcome.matched, outcome.ledger_entries) == ((), 0, 1)


def test_amount_mismatch():
    stripe = [txn("txn_c", "ch_1", 9_680, 320)]
    difference = only(reconcile(stripe, [charge_entry("pay_1:v2", "ch_1", captured=9_000)], PERIOD))

    assert difference.difference_class is DifferenceClass.AMOUNT_MISMATCH
    assert (difference.stripe.amount, difference.ledger.amount) == (10_000, 9_000)
    assert (difference.stripe_transaction_ids, difference.ledger_entry_ids) == (("txn_c",), ("pay_1:v2",))


def test_fee_mismatch_same_amount_other_fee():
    stripe = [txn("txn_c", "ch_1", 9_500, 500)]  # Stripe changed its fee silently
    difference = only(reconcile(stripe, [charge_entry("pay_1:v2", "ch_1")], PERIOD))

    assert difference.difference_class is DifferenceClass.FEE_MISMATCH
    assert (difference.stripe.fee, difference.ledger.fee) == (500, 320)
    assert (difference.stripe.net, difference.ledger.net) == (9_500, 9_680)
    assert difference.stripe.amount == difference.ledger.amount == 10_000


def test_a_currency_we_never_booked_is_compared_too():
    stripe = [txn("txn_c", "ch_1", 9_680, 320), txn("txn_e", "ch_e", 1_000, 59, currency="eur")]

    outcome = reconcile(stripe, [charge_entry("pay_1:v2", "ch_1")], PERIOD)

    difference = only(outcome)
    assert (difference.currency, difference.difference_class) == ("eur", DifferenceClass.MISSING_IN_LEDGER)
    assert outcome.matched == 1


def test_the_same_object_in_another_currency_is_not_a_match():
    stripe = [txn("txn_c", "ch_1", 9_680, 320, currency="eur")]
    outcome = reconcile(stripe, [charge_entry("pay_1:v2", "ch_1")], PERIOD)

    assert sorted((d.currency, d.difference_class) for d in outcome.differences) == [
        ("eur", DifferenceClass.MISSING_IN_LEDGER),
        ("usd", DifferenceClass.MISSING_AT_STRIPE),
    ]


# --------------------------------------------------------------------------- timing, both edges


def test_timing_stripe_in_the_period_we_booked_it_just_after_the_last_day():
    stripe = [txn("txn_c", "ch_1", 9_680, 320, time="23:59:59")]
    ledger = [charge_entry("pay_1:v2", "ch_1", day="2026-11-27", time="00:00:01.000")]

    outcome = reconcile(stripe, ledger, PERIOD)

    difference = only(outcome)
    assert difference.difference_class is DifferenceClass.TIMING
    assert difference.explained
    assert (difference.stripe_transaction_ids, difference.ledger_entry_ids) == (("txn_c",), ("pay_1:v2",))
    assert "2026-11-27" in difference.detail
    assert (outcome.unexplained, outcome.matched) == (0, 0)


def test_timing_stripe_just_before_the_first_day_we_booked_it_in_the_period():
    stripe = [txn("txn_c", "ch_1", 9_680, 320, day="2026-11-25", time="23:59:59")]
    ledger = [charge_entry("pay_1:v2", "ch_1", time="00:00:02.000")]

    difference = only(reconcile(stripe, ledger, PERIOD))

    assert difference.difference_class is DifferenceClass.TIMING
    assert "2026-11-25" in difference.detail


def test_timing_at_the_edges_of_a_longer_period():
    period = Period(date(2026, 11, 20), date(2026, 11, 26))
    stripe = [
        txn("txn_a", "ch_a", 970, 30, day="2026-11-20", time="00:00:05"),
        txn("txn_b", "ch_b", 970, 30, day="2026-11-26", time="23:59:58", payment_id="pay_2"),
    ]
    ledger = [
        charge_entry("pay_1:v2", "ch_a", captured=1_000, fee=30, day="2026-11-19", time="23:59:59.000"),
        charge_entry("pay_2:v2", "ch_b", captured=1_000, fee=30, day="2026-11-27", time="00:00:01.000"),
    ]

    outcome = reconcile(stripe, ledger, period)

    assert [d.difference_class for d in outcome.differences] == [DifferenceClass.TIMING] * 2
    assert outcome.unexplained == 0


def test_what_lies_only_in_the_widened_days_belongs_to_another_period():
    stripe = [txn("txn_c", "ch_1", 9_680, 320, day="2026-11-25")]
    ledger = [charge_entry("pay_2:v2", "ch_2", day="2026-11-27", payment_id="pay_2")]

    outcome = reconcile(stripe, ledger, PERIOD)

    assert (outcome.differences, outcome.stripe_transactions, outcome.ledger_entries) == ((), 0, 0)


def test_outside_the_widened_days_a_side_is_missing_not_late():
    stripe = [txn("txn_c", "ch_1", 9_680, 320)]
    # Booked two days later: beyond the one-day margin, so it was not read at all.
    assert only(reconcile(stripe, [], PERIOD)).difference_class is DifferenceClass.MISSING_IN_LEDGER


def test_the_differences_come_in_a_stable_order_numbered_from_zero():
    stripe = [txn("txn_z", "ch_z", 100, payment_id=None), txn("txn_c", "ch_1", 9_500, 500)]
    ledger = [
        charge_entry("pay_1:v2", "ch_1"),
        entry("pay_9:v4", "re_9", (Account.STRIPE_BALANCE, -5), (Account.REFUNDS, 5)),
    ]

    first = reconcile(stripe, ledger, PERIOD)
    again = reconcile(list(reversed(stripe)), list(reversed(ledger)), PERIOD)

    assert first == again
    assert [(d.number, d.difference_class) for d in first.differences] == [
        (0, DifferenceClass.UNKNOWN_AT_STRIPE),
        (1, DifferenceClass.MISSING_AT_STRIPE),
        (2, DifferenceClass.FEE_MISMATCH),
    ]


def test_only_restricts_the_comparison_to_some_objects():
    stripe = [txn("txn_c", "ch_1", 9_680, 320)]
    ledger = [charge_entry("pay_1:v2", "ch_1"), charge_entry("pay_2:v2", "ch_2", payment_id="pay_2")]

    outcome = reconcile(stripe, ledger, PERIOD, only=frozenset({"ch_1"}))

    assert (outcome.differences, outcome.matched, outcome.ledger_entries) == ((), 1, 1)


# --------------------------------------------------------------------------- payouts


def payout(automatic: bool = True, reconciliation: str | None = "completed", amount: int = 9_680):
    return PayoutAtStripe(
        id="po_1",
        amount=amount,
        currency="usd",
        status="paid",
        automatic=automatic,
        created=at("2026-11-26"),
        reconciliation_status=reconciliation,
        balance_transaction_id="txn_p",
    )


OWN = txn("txn_p", "po_1", -9_680, source_type="payout", type_="payout", payment_id=None)


def test_a_payout_whose_transactions_add_up():
    check = check_payout(payout(), [txn("txn_c", "ch_1", 9_680, 320), OWN])

    assert (check.status, check.transactions_net, check.transactions, check.difference) == (
        "balanced",
        9_680,
        1,
        0,
    )


def test_a_payout_whose_transactions_do_not_add_up_says_which_are_pending():
    lines = [txn("txn_c", "ch_1", 9_000, 320), txn("txn_q", "ch_2", 100, status="pending"), OWN]
    check = check_payout(payout(), lines)

    assert (check.status, check.difference, check.pending) == ("unbalanced", 580, ("txn_q",))
    assert "9100" in check.reason
    assert "pending: txn_q" in check.reason


def test_a_payout_stripe_has_not_reconciled_or_a_manual_one_cannot_be_checked():
    waiting = check_payout(payout(reconciliation="in_progress"), [OWN])
    manual = check_payout(payout(automatic=False, reconciliation="not_applicable"), [OWN])

    assert waiting.status == manual.status == "unavailable"
    assert "in_progress" in waiting.reason
    assert "manual" in manual.reason


# --------------------------------------------------------------------------- requests and runs


TODAY = date(2026, 11, 26)


def test_a_period_of_today_is_allowed():
    period = parse_period("2026-11-26", "2026-11-26", today=TODAY)

    assert (period.days, period_run_id(period)) == (1, "rec_2026-11-26_2026-11-26")
    assert period.widened().bounds() == (at("2026-11-25", "00:00:00"), at("2026-11-28", "00:00:00"))


@pytest.mark.parametrize(
    ("first", "last", "field", "words"),
    [
        ("2026-11-26", "2026-11-27", "to", "future"),
        ("2026-11-20", "2026-11-19", "to", "before"),
        ("2026-10-01", "2026-11-01", "to", "at most 31"),
        ("2026-02-30", "2026-03-01", "from", "calendar"),
        ("26/11/2026", "2026-11-26", "from", "YYYY-MM-DD"),
        (None, "2026-11-26", "from", "YYYY-MM-DD"),
    ],
)
def test_a_bad_period_names_the_field(first, last, field, words):
    with pytest.raises(ValidationFailed) as refused:
        parse_period(first, last, today=TODAY)

    assert [e.field for e in refused.value.errors] == [field]
    assert words in refused.value.errors[0].message


def test_thirty_one_days_is_the_longest_period():
    assert parse_period("2026-10-27", "2026-11-26", today=TODAY).days == 31


def test_a_payout_id_must_be_one():
    assert parse_payout_id("po_1Abc") == "po_1Abc"
    with pytest.raises(ValidationFailed):
        parse_payout_id("pay_1")


def test_a_completed_run_counts_and_announces_its_result():
    outcome = reconcile(
        [txn("txn_c", "ch_1", 9_500, 500), txn("txn_t", "ch_t", 1, time="23:59:59")],
        [
            charge_entry("pay_1:v2", "ch_1"),
            charge_entry("pay_2:v2", "ch_t", captured=1, fee=0, day="2026-11-27", payment_id="pay_2"),
        ],
        PERIOD,
    )
    run = ReconciliationRun.for_period(PERIOD, 3, "2026-11-27T01:00:00.000Z")

    done = run.completed(outcome, ["usd"], "2026-11-27T01:00:02.000Z")
    event = done.event()

    assert (done.status, done.unexplained, done.differences_total) == (RunStatus.COMPLETED, 1, 2)
    assert (event.event_id, event.event_type, event.customer_id) == (
        "rec_2026-11-26_2026-11-26:v3",
        "ReconciliationCompleted",
        None,
    )
    assert event.data["unexplained"] == 1
    assert event.data["differences"]["timing"] == event.data["differences"]["fee_mismatch"] == 1
    assert event.data["period_from"] == "2026-11-26"


def test_a_failed_run_keeps_its_reason():
    run = ReconciliationRun.for_payout("po_1", 1, "2026-11-27T01:00:00.000Z")
    failed = run.failed("payment_provider_error", "the payment provider failed", "2026-11-27T01:00:01.000Z")

    assert (failed.id, failed.status, failed.failure_code) == (
        "rec_po_1",
        RunStatus.FAILED,
        "payment_provider_error",
    )
    assert failed.unexplained == 0


def test_days_are_utc():
    line = txn("txn_c", "ch_1", 1, time="23:30:00")
    assert line.day == "2026-11-26"
    assert datetime.fromtimestamp(line.created, UTC).hour == 23
