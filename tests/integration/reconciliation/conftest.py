"""Reconciliation helpers: runs through the real handlers (admins), money moved through the real chain
(API, emulator, signed webhooks, bus, subscribers, ledger), and the reconciliation table as stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from infra import catalog
from infra.local import resources
from tests.support.api import ApiResponse, call
from tests.support.ledger import trial_balance_stays_zero  # noqa: F401 (autouse: every scenario here)

ADMIN = "admin-1"
TABLE = resources.LOCAL_NAMES[catalog.RECONCILIATION.name]


def admin(method: str, path: str, **kwargs: Any) -> ApiResponse:
    return call(method, path, sub=ADMIN, admin=True, **kwargs)


def start(body: Any, **kwargs: Any) -> ApiResponse:
    return admin("POST", "/reconciliation/runs", body=body, **kwargs)


def completed(body: Any) -> dict[str, Any]:
    response = start(body)
    assert response.status == 201, response.body
    assert response.body["status"] == "completed"
    return dict(response.body)


def differences(run_id: str) -> list[dict[str, Any]]:
    """Every difference of the run, read page by page through GET /reconciliation/runs/{run_id}."""
    found: list[dict[str, Any]] = []
    cursor = ""
    while True:
        query = f"limit=2{'&cursor=' + cursor if cursor else ''}"
        response = admin("GET", f"/reconciliation/runs/{run_id}", query=query)
        assert response.status == 200, response.body
        found += response.body["differences"]
        cursor = response.body["next_cursor"]
        if not cursor:
            return found


def stored(aws: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = aws["dynamodb"].scan(TableName=TABLE)["Items"]
    return items


def settle(chain: Any, dispatcher: Any) -> None:
    """Every webhook delivered and every subscriber run until nothing is left."""
    assert chain.wait_for_webhooks(timeout=10)
    outcomes = {d.outcome for d in dispatcher.drain()}
    assert outcomes <= {"ok"}, outcomes


@pytest.fixture
def today() -> Callable[[], dict[str, str]]:
    """The test's period: the day it started until the day it is now (one day unless it runs over
    midnight, UTC), so what it paid is always in the period."""
    first: date = datetime.now(UTC).date()

    def period() -> dict[str, str]:
        return {"from": first.isoformat(), "to": datetime.now(UTC).date().isoformat()}

    return period
