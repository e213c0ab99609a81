"""DynamoDB request units from item sizes, by DynamoDB's published rules (moto's ConsumedCapacity is a
constant 1.0 or 0.5 whatever the item, so it cannot be used).

- Item size: attribute names + values. String: UTF-8 bytes; Number: 1 byte per 2 significant digits + 1;
  Binary: bytes; Boolean/Null: 1; List/Map: 3 bytes + 1 per element (+ key names for maps); sets: the sum.
- Reads: 1 unit per 4 KB (rounded up), half for eventually consistent reads, double in transactions.
  A Query rounds the total of the items it reads; a read that finds nothing still costs the minimum.
- Writes: 1 unit per 1 KB of the larger of the item before and after, double in transactions (a failed
  condition still consumes the write). Each global secondary index the item is (or was) in costs one more
  write at standard rate, by the size of the entry it projects; two when the index key itself changes
  (delete the old entry, put the new one). A change of attributes a KEYS_ONLY index does not project
  writes nothing to it.
"""

from __future__ import annotations

import base64
import math
from typing import Any

from infra import catalog

READ_UNIT = 4096
WRITE_UNIT = 1024


def value_size(value: dict[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return number_size(str(raw))
    if kind == "B":
        return len(raw) if isinstance(raw, bytes | bytearray) else len(base64.b64decode(raw))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(v).encode()) for v in raw)
    if kind == "NS":
        return sum(number_size(str(v)) for v in raw)
    if kind == "BS":
        return sum(len(v) if isinstance(v, bytes | bytearray) else len(base64.b64decode(v)) for v in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in raw.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def number_size(text: str) -> int:
    digits = text.lstrip("+-").replace(".", "").lstrip("0").rstrip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def read_units(total_bytes: int, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(total_bytes / READ_UNIT)) * (1.0 if consistent else 0.5)
    return units * (2 if transactional else 1)


def write_units(size_bytes: int, transactional: bool = False) -> float:
    return max(1, math.ceil(size_bytes / WRITE_UNIT)) * (2.0 if transactional else 1.0)


TABLES: dict[str, catalog.Table] = {t.name: t for t in catalog.TABLES}  # local names are the logical ones


def _index_key(item: dict[str, Any] | None, index: catalog.Index) -> tuple[Any, ...] | None:
    if not item or index.partition_key not in item:
        return None
    if index.sort_key and index.sort_key not in item:
        return None  # sparse: an item without the index's sort key is not in the index
    return (
        repr(item[index.partition_key]),
        repr(item.get(index.sort_key)) if index.sort_key else None,
    )


def index_writes(table: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> float:
    """Standard-rate writes to the table's global secondary indexes (projections as in the catalog)."""
    return sum(units for _index, _key, units in index_writes_by_key(table, before, after))


def index_writes_by_key(
    table: str, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> list[tuple[str, str, float]]:
    """(index, its partition key value, write units) of each index write: a changed index key is a
    delete under the old key and a put under the new one."""
    spec = TABLES.get(table)
    if spec is None or before == after:
        return []
    writes: list[tuple[str, str, float]] = []
    for index in spec.indexes:
        old_key, new_key = _index_key(before, index), _index_key(after, index)
        if old_key is None and new_key is None:
            continue
        old, new = _projected(spec, index, before), _projected(spec, index, after)
        if old_key is not None and new_key is not None and old_key != new_key:
            writes.append((index.name, _partition(old, index), write_units(item_size(old))))
            writes.append((index.name, _partition(new, index), write_units(item_size(new))))
        elif new_key is not None:
            if old == new:
                continue  # nothing the index holds changed
            writes.append((index.name, _partition(new, index), write_units(item_size(new))))
        else:
            writes.append((index.name, _partition(old, index), write_units(item_size(old))))
    return writes


def _projected(spec: catalog.Table, index: catalog.Index, item: dict[str, Any] | None) -> dict[str, Any]:
    """The index's entry for the item: all of it, or (KEYS_ONLY) the table's and the index's keys."""
    if not item or index.projection == "ALL":
        return item or {}
    names = {spec.partition_key, spec.sort_key, index.partition_key, index.sort_key}
    return {name: item[name] for name in names if name and name in item}


def _partition(item: dict[str, Any], index: catalog.Index) -> str:
    ((_kind, raw),) = item[index.partition_key].items()
    return str(raw)


def key_of(table: str, item: dict[str, Any]) -> dict[str, Any]:
    spec = TABLES[table]
    names = [spec.partition_key] + ([spec.sort_key] if spec.sort_key else [])
    return {name: item[name] for name in names if name in item}
