"""Write shards (payments/adapters/dynamodb/shards.py): a family read over its shards merges in the
order one key would give, newest first as well as oldest first."""

from __future__ import annotations

from payments.adapters.dynamodb.shards import FAMILIES, merge, sharded, shards_of


def _items(*sort_keys: str) -> list[dict]:
    return [{"created_sk": {"S": sk}} for sk in sort_keys]


def _key(item: dict) -> str:
    return str(item["created_sk"]["S"])


def test_newest_first_takes_the_newest_across_shards():
    answers = [(_items("09", "05", "01"), False), (_items("08", "07"), False), (_items("06"), False)]
    taken, more = merge(answers, 4, _key, newest_first=True)
    assert [_key(i) for i in taken] == ["09", "08", "07", "06"]
    assert more  # "05" and "01" are still to come


def test_a_shard_cut_short_holds_back_what_sorts_after_its_last_item():
    # Shard 1 stopped at "07" (its 1 MB page) with more to come: it may hold "06", so "05" waits.
    answers = [(_items("09", "05"), False), (_items("08", "07"), True)]
    taken, more = merge(answers, 4, _key, newest_first=True)
    assert [_key(i) for i in taken] == ["09", "08", "07"]
    assert more


def test_the_last_page_says_there_is_no_more():
    taken, more = merge([(_items("02"), False), (_items("01"), False)], 5, _key, newest_first=True)
    assert ([_key(i) for i in taken], more) == (["02", "01"], False)


def test_a_key_names_its_family_and_shard_count():
    key = sharded("STATUS#succeeded", "pay_1", FAMILIES["STATUS#"])
    assert key.startswith("STATUS#succeeded#")
    assert shards_of(key) == FAMILIES["STATUS#"]
    assert shards_of("STATUS#succeeded") is None  # no shard suffix: not a sharded key
    assert shards_of("PAYMENT#pay_1") is None
