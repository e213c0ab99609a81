"""The velocity counters on moto (adapters/dynamodb/velocity.py): atomic under real threads, sliding
windows across hours, the day's total, declines counted once per payment, every item with its TTL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier
from typing import Any

import boto3

from infra import catalog
from infra.local import resources
from payments.adapters.dynamodb.velocity import DynamoVelocity
from payments.application.ports import DayAmount, Subject

TABLE = resources.LOCAL_NAMES[catalog.RISK.name]
ALICE = Subject("customer", "cus_alice")
CARD = Subject("card", "fpCARDaaaaaaaaa1")
IP = Subject("ip", "203.0.113.9")
RACERS = 20


def mid_hour(hours_ago: int = 0, minute: int = 30) -> datetime:
    """A moment in the middle of an hour near now (never on an hour's edge, whatever the clock)."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours_ago)
    return start + timedelta(minutes=minute, seconds=15)


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def race(times: int, action: Any) -> list[Any]:
    """`action` on `times` threads released at once."""
    start = Barrier(times)

    def one(_: int) -> Any:
        start.wait()
        return action()

    with ThreadPoolExecutor(times) as pool:
        return list(pool.map(one, range(times)))


def velocity_items() -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=TABLE)["Items"]


def test_racing_attempts_each_see_a_count_of_their_own(aws):
    counters = DynamoVelocity(TABLE)
    at = stamp(mid_hour())
    seen = race(RACERS, lambda: counters.count_attempt({ALICE: 3600}, None, at)[ALICE].attempts_within(3600))
    assert sorted(seen) == list(range(1, RACERS + 1))
    # So a limit of N lets exactly N of them through, whatever the interleaving.
    assert len([count for count in seen if count <= 5]) == 5


def test_the_window_slides_over_the_hours_before(aws):
    counters = DynamoVelocity(TABLE)
    counters.count_attempt({ALICE: 3600}, None, stamp(mid_hour(hours_ago=3)))  # outside every window
    counters.count_attempt({ALICE: 3600}, None, stamp(mid_hour(hours_ago=1, minute=50)))
    counters.count_attempt({ALICE: 3600}, None, stamp(mid_hour(hours_ago=1, minute=10)))
    history = counters.count_attempt({ALICE: 4 * 3600}, None, stamp(mid_hour(minute=20)))[ALICE]
    assert history.attempts_within(60) == 1
    assert history.attempts_within(3600) == 2  # 30 minutes ago (the previous hour's :50) and now
    assert history.attempts_within(2 * 3600) == 3
    assert history.attempts_within(4 * 3600) == 4


def test_a_window_of_an_hour_reaches_into_the_hour_before(aws):
    counters = DynamoVelocity(TABLE)
    counters.count_attempt({ALICE: 3600}, None, stamp(mid_hour(hours_ago=1, minute=50)))
    counters.count_attempt({ALICE: 3600}, None, stamp(mid_hour(hours_ago=1, minute=5)))  # 75 minutes ago
    history = counters.count_attempt({ALICE: 3600}, None, stamp(mid_hour(minute=20)))[ALICE]
    assert history.attempts_within(3600) == 2  # the previous hour's :50 and now


def test_distinct_cards_are_counted_once_per_card_and_not_for_a_card_itself(aws):
    counters = DynamoVelocity(TABLE)
    at = stamp(mid_hour())
    for fingerprint in ("fpCARDaaaaaaaaa1", "fpCARDaaaaaaaaa1", "fpCARDbbbbbbbbb2"):
        histories = counters.count_attempt(
            {ALICE: 3600, IP: 3600, Subject("card", fingerprint): 3600}, fingerprint, at
        )
    assert histories[ALICE].cards_within(3600) == 2
    assert histories[IP].cards_within(3600) == 2
    assert histories[Subject("card", "fpCARDbbbbbbbbb2")].cards_within(3600) == 0
    # A subject's cards are a short hash of each fingerprint, not the fingerprints.
    kept = [item["cards"]["SS"] for item in velocity_items() if "cards" in item]
    assert len(kept) == 2
    assert all(len(card) == 12 and not card.startswith("fp") for cards in kept for card in cards)


def test_a_decline_counts_once_per_payment_and_gives_the_amount_back_once(aws):
    counters = DynamoVelocity(TABLE)
    at = stamp(mid_hour())
    day = DayAmount("cus_alice", at[:10], "usd", 2500)
    assert counters.add_to_day(day, 10_000).total == 2500
    counted = [counters.record_decline("pay_1", [ALICE, CARD, IP], at, day) for _ in range(3)]
    assert counted == [True, False, False]
    histories = counters.count_attempt({ALICE: 3600, CARD: 3600, IP: 3600}, None, at)
    assert {subject: h.declines_within(3600) for subject, h in histories.items()} == {
        ALICE: 1,
        CARD: 1,
        IP: 1,
    }
    assert counters.add_to_day(DayAmount("cus_alice", at[:10], "usd", 100), 10_000).total == 100


def test_racing_duplicate_declines_count_once(aws):
    counters = DynamoVelocity(TABLE)
    at = stamp(mid_hour())
    results = race(8, lambda: _try_decline(counters, at))
    assert results.count(True) == 1
    history = counters.count_attempt({ALICE: 3600}, None, at)[ALICE]
    assert history.declines_within(3600) == 1


def _try_decline(counters: DynamoVelocity, at: str) -> bool | str:
    from payments.domain.errors import StoreUnavailable

    try:
        return counters.record_decline("pay_dup", [ALICE], at, None)
    except StoreUnavailable:
        return "busy"  # a conflicting transaction: the webhook's retry counts it (still once)


def test_the_day_total_never_passes_its_limit_under_racing_payments(aws):
    counters = DynamoVelocity(TABLE)
    day = DayAmount("cus_alice", stamp(mid_hour())[:10], "usd", 1000)
    results = race(RACERS, lambda: counters.add_to_day(day, 7_500))
    assert [r.accepted for r in results].count(True) == 7
    assert max(r.total for r in results) == 7000
    # Another currency, another customer and another day have totals of their own.
    assert counters.add_to_day(DayAmount("cus_alice", day.day, "eur", 1000), 7_500).total == 1000
    assert counters.add_to_day(DayAmount("cus_bob", day.day, "usd", 1000), 7_500).total == 1000
    assert counters.add_to_day(DayAmount("cus_alice", "2001-01-01", "usd", 1000), 7_500).total == 1000


def test_an_amount_over_the_limit_does_not_fit_even_an_empty_day(aws):
    counters = DynamoVelocity(TABLE)
    refused = counters.add_to_day(DayAmount("cus_alice", "2030-01-01", "usd", 8000), 7_500)
    assert (refused.accepted, refused.total) == (False, 0)
    assert velocity_items() == []


def test_every_counter_expires(aws):
    counters = DynamoVelocity(TABLE)
    at = stamp(mid_hour())
    counters.count_attempt({ALICE: 3600, CARD: 3600}, "fpCARDaaaaaaaaa1", at)
    counters.add_to_day(DayAmount("cus_alice", at[:10], "usd", 1000), 7_500)
    counters.record_decline("pay_1", [IP], at, None)
    items = velocity_items()
    assert {item["pk"]["S"].split("#")[1] for item in items} == {"customer", "card", "ip", "day", "decline"}
    now = datetime.now(UTC).timestamp()
    for item in items:
        expires = int(item[catalog.RISK.ttl_attribute or ""]["N"])
        assert now < expires < now + 9 * 24 * 3600
