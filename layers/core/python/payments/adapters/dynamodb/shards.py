"""Write sharding: a partition key that every item of a kind shares, spread over a fixed set of keys.

DynamoDB lets one partition key take about 1,000 write units a second, on a table and on each of its
indexes alike, and a throttled index write throttles the table write that caused it. A key shared by
every payment of a status, every unpublished event or every journal entry of a day would take the
service's whole write rate, so it is given a shard suffix, `<family>#<shard>`, from CRC-32 of the
item's id (stable across processes, unlike Python's salted hash()): the same item always lands on the
same shard, and a status change moves it between `STATUS#<a>#<n>` and `STATUS#<b>#<n>`.

Readers query every shard side by side and merge the answers on the sort key (`merge`), so a listing
reads in the same order it would from one key. docs/scaling.md, Partition heat, has the counts and the
rate each takes (`make bench` measures it).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

# Shards per family: each must keep its hottest key under ~1,000 write units a second at 10,000
# payments a second (bench/heat.py computes it from the writes measured).
STATUS_SHARDS = 32  # by_status: STATUS#<status>#<n> and REFUND#awaiting_stripe#<n>
OUTBOX_SHARDS = 64  # outbox: OUTBOX#<n>, each event added when committed and removed when published
JOURNAL_SHARDS = 16  # ledger: JOURNAL#<currency>#<day>#<n>

# Every sharded family, by the start of its partition key (the key ends in `#<shard>`).
FAMILIES: dict[str, int] = {
    "STATUS#": STATUS_SHARDS,
    "REFUND#awaiting_stripe#": STATUS_SHARDS,
    "OUTBOX#": OUTBOX_SHARDS,
    "JOURNAL#": JOURNAL_SHARDS,
}

# Shards are queried side by side, as many at once as botocore's connection pool holds (10 by default).
READERS = 10

T = TypeVar("T")


def shard_of(item_id: str, shards: int) -> int:
    return zlib.crc32(item_id.encode()) % shards


def sharded(family: str, item_id: str, shards: int) -> str:
    """The item's key in `family` (which names the family without its trailing `#`)."""
    return f"{family}#{shard_of(item_id, shards)}"


def every_shard(family: str, shards: int) -> list[str]:
    return [f"{family}#{shard}" for shard in range(shards)]


def shards_of(partition_key: str) -> int | None:
    """How many keys the family of `partition_key` spreads over (None: not a sharded family)."""
    for prefix, shards in FAMILIES.items():
        if partition_key.startswith(prefix) and partition_key.rsplit("#", 1)[-1].isdigit():
            return shards
    return None


def fan_out(read: Callable[[str], T], keys: Sequence[str]) -> list[T]:
    """`read` of every key, side by side, in the order of `keys`."""
    with ThreadPoolExecutor(min(READERS, len(keys))) as pool:
        return list(pool.map(read, keys))


def merge(
    answers: Sequence[tuple[list[dict[str, Any]], bool]],
    want: int,
    sort_key: Callable[[dict[str, Any]], str],
    *,
    newest_first: bool = False,
) -> tuple[list[dict[str, Any]], bool]:
    """The next `want` items across shards in sort-key order, and whether the shards hold more.

    `answers` are each shard's first `want` items after the same point, in the same order (and whether
    it has more): their merge's first `want` are the family's. A shard that stopped early (at
    DynamoDB's 1 MB page) may hold items that sort before another shard's last, so nothing past the
    earliest such stop is taken yet."""
    rows = sorted((item for items, _ in answers for item in items), key=sort_key, reverse=newest_first)
    stops = [sort_key(items[-1]) for items, more in answers if more and items]
    if stops:
        if newest_first:
            rows = [item for item in rows if sort_key(item) >= max(stops)]
        else:
            rows = [item for item in rows if sort_key(item) <= min(stops)]
    return rows[:want], bool(stops) or len(rows) > want
