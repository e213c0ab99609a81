"""The books balance after every scenario, as finance reads them: an autouse fixture for the test
folders that move money (reconciliation, ledger)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from infra import catalog
from infra.local import resources
from tests.support.api import call


@pytest.fixture(autouse=True)
def trial_balance_stays_zero(aws: dict[str, Any]) -> Any:
    """GET /v1/ledger/balances of each currency the journal holds answers a trial balance of 0."""
    yield
    table = resources.LOCAL_NAMES[catalog.LEDGER.name]
    items = aws["dynamodb"].scan(TableName=table)["Items"]
    currencies = {item["currency"]["S"] for item in items if "currency" in item and "lines" in item}
    today = datetime.now(UTC).date()
    period = f"from={today.replace(day=1).isoformat()}&to={today.isoformat()}"
    for currency in sorted(currencies):
        answer = call(
            "GET", "/ledger/balances", query=f"currency={currency}&{period}", sub="admin-1", admin=True
        )
        assert answer.status == 200, answer.body
        assert answer.body["trial_balance"] == 0, (currency, answer.body)
