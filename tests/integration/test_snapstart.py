"""SnapStart priming: the runtime's hooks are registered by every entry point and warm what the first
request would load, without sending a request or reading a secret."""

from __future__ import annotations

import gc
import random
import sys
import types
from typing import Any

import pytest

from payments import snapstart
from payments.adapters import aws as aws_clients


@pytest.fixture
def snapshot_runtime(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Lambda's `snapshot_restore_py` module, as the SnapStart runtime provides it."""
    hooks: dict[str, list[Any]] = {"before": [], "after": []}
    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = hooks["before"].append  # type: ignore[attr-defined]
    module.register_after_restore = hooks["after"].append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    return hooks


def test_without_snapstart_nothing_is_registered():
    assert snapstart.prime() is False


def test_priming_builds_clients_and_the_entry_point_but_calls_nothing(aws, snapshot_runtime):
    calls: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> str:
        calls.append("handled")
        return "ok"

    aws_clients.reset()
    entry = snapstart.entry_point(handler)
    assert len(snapshot_runtime["before"]) == 1
    assert len(snapshot_runtime["after"]) == 1

    sent: list[str] = []
    try:
        for hook in snapshot_runtime["before"]:
            hook()
        assert gc.get_freeze_count() > 0  # what priming loaded is kept out of the collector's way
    finally:
        gc.unfreeze()
    for service in ("dynamodb", "events", "secretsmanager"):
        aws_clients.client(service).meta.events.register("before-send", lambda **kw: sent.append("sent"))
    assert aws_clients._client.cache_info().currsize == 3  # built before the snapshot
    assert "stripe" in sys.modules
    assert sent == []  # no connection, no secret in the snapshot
    assert calls == []

    assert entry({}, None) == "ok"
    assert calls == ["handled"]


def test_restore_reseeds_random(snapshot_runtime):
    snapstart.entry_point(lambda event, context: None)
    random.seed(1)
    snapshotted = random.random()
    random.seed(1)
    for hook in snapshot_runtime["after"]:
        hook()
    assert random.random() != snapshotted
