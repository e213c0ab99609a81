"""Every AWS and Stripe request a handler makes, with DynamoDB's request units, counted in-process.

AWS: handlers registered through botocore's BUILTIN_HANDLERS (the hook moto itself uses), so every
client of every session gets them whenever it is built. Stripe: `requests.Session.send`, which the
official SDK's RequestsClient goes through. DynamoDB items before and after a write are read from moto's
backend directly (no request), so index writes and "larger of before/after" sizes are exact.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from bench import heat, units
from bench.common import ACCOUNT, REGION

EVENT_CHUNK = 64 * 1024  # EventBridge bills each 64 KB of an entry as one event
# Stripe object ids (pi_..., pm_..., cus_...) in a path become {id}, so requests group by endpoint.
_ID_SEGMENT = re.compile(
    r"^(pi|pm|ch|re|cus|evt|dp|du|py|txn|card|src|seti|acct|po|tr|rfd|prv|issfr)_[A-Za-z0-9_]+$"
)
_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@dataclass
class Request:
    service: str
    operation: str
    target: str = ""
    read_units: float = 0.0
    write_units: float = 0.0
    index_write_units: float = 0.0
    event_entries: int = 0
    event_chunks: int = 0
    io_ms: float = 0.0
    ok: bool = True
    event_types: list[str] = field(default_factory=list)  # "source|detail-type" of each entry
    keys_read: list[str] = field(default_factory=list)
    keys_written: list[str] = field(default_factory=list)
    # (table or table/index, partition key pattern, write units) of each write, for the heat model
    writes_by_key: list[tuple[str, str, float]] = field(default_factory=list)
    reread: bool = False
    read_own_write: bool = False

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}" + (f" {self.target}" if self.target else "")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("keys_read")
        data.pop("keys_written")
        data.pop("writes_by_key")
        return data


def _key_text(table: str, key: dict[str, Any]) -> str:
    return f"{table}:" + json.dumps(key, sort_keys=True)


class Meter:
    def __init__(self, stripe_base: str) -> None:
        self.stripe_base = stripe_base
        self.published: list[dict[str, Any]] = []  # every PutEvents entry, recorded or not
        self._recording: list[Request] | None = None
        self._detailed = True

    # ------------------------------------------------------------------ lifecycle

    def install(self) -> None:
        """Once, before any boto3 session exists (handlers reach sessions created after this)."""
        from botocore import handlers

        handlers.BUILTIN_HANDLERS.extend(
            [
                ("before-parameter-build", self._before_build),
                ("before-call", self._before_call),
                ("after-call", self._after_call),
            ]
        )
        self._patch_requests()

    @contextmanager
    def recording(self, detailed: bool) -> Iterator[list[Request]]:
        """Requests made inside the block; `detailed=False` keeps only names and times (no unit
        accounting, whose backend look-ups would add to the latency being measured)."""
        requests: list[Request] = []
        self._recording, self._detailed = requests, detailed
        try:
            yield requests
        finally:
            self._recording = None
            _mark_rereads(requests)

    # ------------------------------------------------------------------ botocore hooks

    def _before_build(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        service, operation = model.service_model.service_name, model.name
        if service == "events" and operation == "PutEvents":
            self.published.extend(params.get("Entries", []))
        if self._recording is None:
            return
        context["bench_params"] = dict(params)
        if self._detailed and service == "dynamodb" and operation in _WRITES:
            context["bench_before"] = {k: _backend_item(*k_t) for k, k_t in _write_targets(operation, params)}

    def _before_call(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        if self._recording is not None:
            context["bench_started"] = time.perf_counter()

    def _after_call(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        if self._recording is None or "bench_started" not in context:
            return
        service, operation = model.service_model.service_name, model.name
        params = context.get("bench_params", {})
        ok = getattr(http_response, "status_code", 200) < 300 and "Error" not in parsed
        elapsed = (time.perf_counter() - context["bench_started"]) * 1000
        request = Request(service, operation, ok=ok, io_ms=elapsed)
        if service == "dynamodb":
            request.target = str(params.get("TableName", ""))
            if self._detailed:
                _dynamodb_units(request, operation, params, parsed, context.get("bench_before", {}))
        elif service == "events" and operation == "PutEvents":
            entries = params.get("Entries", [])
            request.target = ",".join(sorted({str(e.get("EventBusName", "default")) for e in entries}))
            request.event_entries = len(entries)
            request.event_types = [f"{e.get('Source')}|{e.get('DetailType')}" for e in entries]
            request.event_chunks = sum(max(1, -(-_entry_size(e) // EVENT_CHUNK)) for e in entries)
        elif service == "secretsmanager":
            request.target = str(params.get("SecretId", ""))
        self._recording.append(request)

    # ------------------------------------------------------------------ Stripe

    def _patch_requests(self) -> None:
        import requests

        original = requests.Session.send
        meter = self

        def send(session: Any, prepared: Any, **kwargs: Any) -> Any:
            recording = meter._recording
            url = str(prepared.url)
            if recording is None or not url.startswith(meter.stripe_base):
                return original(session, prepared, **kwargs)
            started = time.perf_counter()
            response = original(session, prepared, **kwargs)
            path = url[len(meter.stripe_base) :].split("?", 1)[0]
            normalized = "/".join("{id}" if _ID_SEGMENT.match(part) else part for part in path.split("/"))
            recording.append(
                Request(
                    "stripe",
                    f"{prepared.method} {normalized}",
                    ok=response.status_code < 300,
                    io_ms=(time.perf_counter() - started) * 1000,
                )
            )
            return response

        requests.Session.send = send  # type: ignore[method-assign,assignment]


# ---------------------------------------------------------------------- DynamoDB


def _backend() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT][REGION]


def _backend_item(table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    try:
        item = _backend().get_item(table, key)
    except Exception:  # a missing table or a malformed key: the request itself will fail
        return None
    return item.to_json()["Attributes"] if item else None


def _write_targets(operation: str, params: dict[str, Any]) -> list[tuple[str, tuple[str, dict[str, Any]]]]:
    """(key text, (table, key)) of every item a write request touches."""
    targets: list[tuple[str, dict[str, Any]]] = []
    if operation == "PutItem":
        targets.append((params["TableName"], units.key_of(params["TableName"], params["Item"])))
    elif operation in ("UpdateItem", "DeleteItem"):
        targets.append((params["TableName"], params["Key"]))
    elif operation == "BatchWriteItem":
        for table, writes in params.get("RequestItems", {}).items():
            for write in writes:
                if "PutRequest" in write:
                    targets.append((table, units.key_of(table, write["PutRequest"]["Item"])))
                else:
                    targets.append((table, write["DeleteRequest"]["Key"]))
    elif operation == "TransactWriteItems":
        for entry in params.get("TransactItems", []):
            ((kind, body),) = entry.items()
            table = body["TableName"]
            key = units.key_of(table, body["Item"]) if kind == "Put" else body["Key"]
            targets.append((table, key))
    return [(_key_text(table, key), (table, key)) for table, key in targets]


def _dynamodb_units(
    request: Request,
    operation: str,
    params: dict[str, Any],
    parsed: dict[str, Any],
    before: dict[str, dict[str, Any] | None],
) -> None:
    table = str(params.get("TableName", ""))
    request.target = table + (f"/{params['IndexName']}" if params.get("IndexName") else "")
    if operation == "GetItem":
        item = parsed.get("Item")
        request.read_units = units.read_units(units.item_size(item), bool(params.get("ConsistentRead")))
        request.keys_read.append(_key_text(table, params["Key"]))
    elif operation in ("Query", "Scan"):
        items = parsed.get("Items", [])
        consistent = bool(params.get("ConsistentRead")) and not params.get("IndexName")
        request.read_units = units.read_units(sum(units.item_size(i) for i in items), consistent)
        request.keys_read.extend(_key_text(table, units.key_of(table, i)) for i in items)
    elif operation == "BatchGetItem":
        for name, items in parsed.get("Responses", {}).items():
            consistent = bool(params["RequestItems"][name].get("ConsistentRead"))
            request.read_units += sum(units.read_units(units.item_size(i), consistent) for i in items)
            request.keys_read.extend(_key_text(name, units.key_of(name, i)) for i in items)
        request.target = ",".join(sorted(params.get("RequestItems", {})))
    elif operation == "TransactGetItems":
        for response in parsed.get("Responses", []):
            request.read_units += units.read_units(units.item_size(response.get("Item")), True, True)
        gets = [entry["Get"] for entry in params.get("TransactItems", [])]
        request.keys_read.extend(_key_text(get["TableName"], get["Key"]) for get in gets)
        request.target = ",".join(sorted({get["TableName"] for get in gets}))
    elif operation in _WRITES:
        transactional = operation == "TransactWriteItems"
        tables = set()
        for key_text, (name, key) in _write_targets(operation, params):
            tables.add(name)
            old = before.get(key_text)
            new = _backend_item(name, key)
            written = _new_size(operation, params, key_text, name)
            size = max(units.item_size(old), written or 0, units.item_size(new))
            item_units = units.write_units(size, transactional)
            request.write_units += item_units
            request.writes_by_key.append((name, heat.pattern(_partition_value(name, key)), item_units))
            if request.ok:
                for index, partition, index_units in units.index_writes_by_key(name, old, new):
                    request.index_write_units += index_units
                    request.writes_by_key.append((f"{name}/{index}", heat.pattern(partition), index_units))
            request.keys_written.append(key_text)
        request.target = ",".join(sorted(tables))


def _partition_value(table: str, key: dict[str, Any]) -> str:
    ((_kind, raw),) = key[units.TABLES[table].partition_key].items()
    return str(raw)


def _new_size(operation: str, params: dict[str, Any], key_text: str, table: str) -> int | None:
    """Size of an item a Put would write (a failed Put still pays for it)."""
    if operation == "PutItem":
        return units.item_size(params["Item"])
    if operation == "TransactWriteItems":
        for entry in params.get("TransactItems", []):
            put = entry.get("Put")
            if put and _key_text(put["TableName"], units.key_of(put["TableName"], put["Item"])) == key_text:
                return units.item_size(put["Item"])
    return None


def _entry_size(entry: dict[str, Any]) -> int:
    return sum(len(str(entry.get(k, "")).encode()) for k in ("Source", "DetailType", "Detail")) + sum(
        len(str(r).encode()) for r in entry.get("Resources", [])
    )


def _mark_rereads(requests: list[Request]) -> None:
    """Flag reads of items this invocation already read, or wrote itself."""
    read: set[str] = set()
    written: set[str] = set()
    for request in requests:
        if request.service == "dynamodb" and request.operation in _READS:
            keys = set(request.keys_read)
            request.reread = bool(keys & read)
            request.read_own_write = bool(keys & written)
            read |= keys
        written |= set(request.keys_written)
