"""moto's DynamoDB, made to behave like DynamoDB where the local stack and the benchmark depend on it.

- Atomic conditional writes: moto checks a condition and then writes without a lock, so two threads of
  its server could both pass `version = :expected`. The payment state machine relies on that condition
  (optimistic locking), so `serialize_dynamodb_writes` makes the write paths mutually exclusive. It
  also hands UpdateItem's answer a copy of the item taken under that lock: moto renders ReturnValues
  from the live item after the write returned, so a racing ADD could read another's count (the risk
  checks' velocity counters rely on each ADD reading its own).
- Transactions that cost what DynamoDB's do: moto copies every table a TransactWriteItems touches
  (copy.deepcopy of the whole table, once per transaction item) to roll back on failure, so a
  transaction's cost grows with the table and the local stack slows down as data piles up.
  `cheap_transaction_backups` keeps the semantics and backs up only the items the transaction names:
  moto's own backup becomes a no-op for tables, and on failure those items are put back (or deleted
  when they did not exist before).

`like_dynamodb()` applies both, in the order that keeps the lock around the whole transaction.

And moto's EventBridge replays, made to replay what EventBridge replays (`replays_like_eventbridge`):
moto sends every archived event to every rule of the bus, whatever the replay's time range and
`Destination.FilterArns`; EventBridge sends only the events whose time is in the range, and only to
the rules named (all rules when none is). Replayed events carry `replay-name`.

And moto's server, kept from doing the same work again on every request (`server_hot_paths`), which
under load (ProcessPayment, 32 clients) was most of its time: for every event and every target
EventBridge's delivery parsed the target's input paths with jsonpath-ng, whose parser rebuilds its PLY
tables each time it is made; and every request listed moto's package folder (a stat per service) to
find its backend, under the lock that serializes all of the server's requests. A path now parses once
(a parsed path is immutable; `find` does not change it) and the folder is listed once. And SQS
checked each received message's retention by building all of its queue's attributes, counting every
message in the queue on the way (a sixth of the server's time under that load): it now reads the
one attribute it needs.
"""

from __future__ import annotations

import copy
import functools
import threading
import uuid
from collections.abc import Callable
from typing import Any

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


def like_dynamodb() -> Callable[[], None]:
    """Both patches; returns a function that undoes them."""
    undo_backups = cheap_transaction_backups()
    undo_lock = serialize_dynamodb_writes()  # wraps the cheap transaction: its rollback runs locked

    def undo() -> None:
        undo_lock()
        undo_backups()

    return undo


def serialize_dynamodb_writes() -> Callable[[], None]:
    """Make moto's DynamoDB write paths mutually exclusive; returns a function that undoes it."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    originals: dict[str, Any] = {}
    for name in _WRITES:
        original = getattr(DynamoDBBackend, name, None)
        if original is None:
            continue
        originals[name] = original

        def locked(
            self: Any,
            *args: Any,
            __original: Any = original,
            __copy: bool = name == "update_item",
            **kwargs: Any,
        ) -> Any:
            with lock:
                result = __original(self, *args, **kwargs)
                return copy.deepcopy(result) if __copy else result

        setattr(DynamoDBBackend, name, locked)

    def undo() -> None:
        for name, original in originals.items():
            setattr(DynamoDBBackend, name, original)

    return undo


class _NoTableCopies:
    """Stands in for the `copy` module inside moto's DynamoDB backend: tables are not copied."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if isinstance(value, self._table_type):
            return value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _target(backend: Any, entry: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    ((kind, op),) = entry.items()
    name = op.get("TableName")
    if not name or name not in backend.tables:
        return None
    if kind == "Put":
        table = backend.get_table(name)
        key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = op["Item"][table.range_key_attr]
        return name, key
    return name, op["Key"]


def cheap_transaction_backups() -> Callable[[], None]:
    """Patch moto's DynamoDB backend; returns a function that undoes it."""
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    original_copy = getattr(models, "copy")  # noqa: B009 - the module moto's backend copies with

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        for entry in transact_items:
            target = _target(self, entry) if len(entry) == 1 else None
            if target is None:
                continue
            name, key = target
            try:
                item = self.get_item(name, key)
            except Exception:  # a malformed key fails the transaction itself, as before
                item = None
            saved.append((name, key, None if item is None else copy.deepcopy(item.to_json()["Attributes"])))
        try:
            original(self, transact_items)
        except Exception:
            for name, key, attributes in reversed(saved):
                if attributes is None:
                    if self.get_item(name, key) is not None:
                        self.delete_item(name, key)
                else:
                    self.put_item(name, attributes)
            raise

    setattr(models, "copy", _NoTableCopies(Table))  # noqa: B010
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]

    def undo() -> None:
        setattr(models, "copy", original_copy)  # noqa: B010
        DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]

    return undo


def replays_like_eventbridge() -> Callable[[], None]:
    """Patch moto's Replay to honour the time range and FilterArns; returns a function that undoes it."""
    from moto.core.utils import unix_time
    from moto.events.models import Replay, ReplayState, events_backends

    original = Replay.replay_events

    def replay_events(self: Any, archive: Any) -> None:
        backend = events_backends[self.account_id][self.region]
        bus = backend.describe_event_bus(self.destination["Arn"].split("/")[-1])
        only = set(self.destination.get("FilterArns") or ())
        start, end = float(self.event_start_time), float(self.event_end_time)
        for event in list(archive.events):
            if not start <= float(event["time"]) < end:
                continue
            for rule in list(bus.rules.values()):
                if only and rule.arn not in only:
                    continue
                # A fresh id per delivery, as moto gives it (consumers dedupe on their own ids).
                replayed: Any = dict(event, **{"id": str(uuid.uuid4()), "replay-name": self.name})
                rule.send_to_targets(replayed, transform_input=False)
        self.state = ReplayState.COMPLETED
        self.end_time = unix_time()

    Replay.replay_events = replay_events  # type: ignore[method-assign]

    def undo() -> None:
        Replay.replay_events = original  # type: ignore[method-assign]

    return undo


def server_hot_paths() -> Callable[[], None]:
    """Parse each EventBridge input path once, list moto's backends once and check a message's
    retention from its queue's one attribute; returns a function that undoes all three. moto imports
    jsonpath's `parse` and calls `list_of_moto_modules` through their modules at every use, so
    replacing the modules' attributes is enough."""
    import jsonpath_ng.ext
    from moto import backends
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    ext: Any = jsonpath_ng.ext  # re-exports `parse` without declaring it
    parse, list_modules = ext.parse, backends.list_of_moto_modules
    retention_check = SQSBackend.is_message_valid_based_on_retention_period
    ext.parse = functools.lru_cache(maxsize=256)(parse)
    modules = tuple(list_modules())
    backends.list_of_moto_modules = lambda: modules

    def retained(self: Any, queue_name: str, message: Any) -> bool:
        period = int(self.get_queue(queue_name).message_retention_period)
        return bool(period + message.sent_timestamp / 1000 > unix_time())

    setattr(SQSBackend, "is_message_valid_based_on_retention_period", retained)  # noqa: B010

    def undo() -> None:
        ext.parse = parse
        backends.list_of_moto_modules = list_modules
        setattr(SQSBackend, "is_message_valid_based_on_retention_period", retention_check)  # noqa: B010

    return undo
