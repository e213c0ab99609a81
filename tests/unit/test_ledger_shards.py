"""The journal's shards: entry ids spread evenly and stably over them, and a page merges a day's shards
oldest first (docs/ledger.md, Storage and reports)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from payments.adapters.dynamodb.ledger import SHARDS, _merge, entry_to_item, shard_of
from payments.domain.ids import payment_id_for
from payments.domain.ledger import Account, JournalEntry, Line

LAYER = Path(__file__).resolve().parents[2] / "layers" / "core" / "python"
ENTRY_IDS = [f"{payment_id_for(f'cus_{n % 97}', f'key-{n}')}:v{2 + n % 4}" for n in range(10_000)]


def test_ten_thousand_entry_ids_spread_evenly_over_the_shards():
    counts = [0] * SHARDS
    for entry_id in ENTRY_IDS:
        counts[shard_of(entry_id)] += 1
    mean = len(ENTRY_IDS) / SHARDS  # 625
    # A fair spread deviates ~24 (one standard deviation) from the mean here: 20% is five of them.
    assert all(abs(count - mean) <= 0.2 * mean for count in counts), counts


def test_an_entry_s_shard_is_the_same_in_every_process():
    # Python's hash() of a str changes with PYTHONHASHSEED; a redelivery must find the same key.
    code = "from payments.adapters.dynamodb.ledger import shard_of; print(shard_of('pay_1:v2'))"
    for seed in ("1", "2"):
        found = subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed, "PYTHONPATH": str(LAYER)},
            capture_output=True,
            text=True,
            check=True,
        )
        assert int(found.stdout) == shard_of("pay_1:v2")


def test_the_key_names_currency_day_and_shard():
    entry = JournalEntry(
        "pay_1:v2",
        "PaymentProcessed",
        "pay_1",
        "usd",
        "2026-12-01T10:00:00.000Z",
        (Line(Account.STRIPE_BALANCE, 100), Line(Account.SALES, -100)),
    )
    item = entry_to_item(entry, "2026-12-01T10:00:01.000Z")
    assert item["pk"] == {"S": f"JOURNAL#usd#2026-12-01#{shard_of('pay_1:v2')}"}
    assert item["sk"] == {"S": "2026-12-01T10:00:00.000Z#pay_1:v2"}


def _items(*sort_keys: str) -> list[dict]:
    return [{"sk": {"S": sk}} for sk in sort_keys]


def _keys(items: list[dict]) -> list[str]:
    return [item["sk"]["S"] for item in items]


def test_a_page_merges_the_shards_oldest_first():
    answers = [(_items("a1", "c1"), True), (_items("b1"), False), ([], False)]
    taken, more = _merge(answers, 2)
    assert (_keys(taken), more) == (["a1", "b1"], True)
    taken, more = _merge([(_items("a1"), False), (_items("b1"), False)], 2)
    assert (_keys(taken), more) == (["a1", "b1"], False)  # the day is done


def test_nothing_past_a_shard_that_stopped_early_is_taken():
    # Shard 0 stopped at its 1 MB page after "b": its next item may come before shard 1's "d".
    answers = [(_items("a", "b"), True), (_items("c", "d"), False)]
    taken, more = _merge(answers, 4)
    assert (_keys(taken), more) == (["a", "b"], True)
