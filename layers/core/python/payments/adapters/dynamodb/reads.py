"""Reading several items of one change at once, as of one moment."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

from payments.adapters.aws import client
from payments.domain.errors import ConcurrentUpdate

CONFLICT_ATTEMPTS = 4


def get_together(table: str, keys: Sequence[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """The items at `keys` (None where there is none), strongly consistent and all from the same moment.

    One TransactGetItems: it needs only the GetItem permission, and unlike BatchGetItem it cannot pair
    an item with another item's older or newer state. DynamoDB cancels it when a transaction is writing
    one of the items at that instant; read again after a short, jittered pause.
    """
    return get_across([(table, key) for key in keys])


def get_across(keys: Sequence[tuple[str, dict[str, Any]]]) -> list[dict[str, Any] | None]:
    """`get_together` of (table, key) pairs: items of several tables in one TransactGetItems."""
    db = client("dynamodb")
    request = [{"Get": {"TableName": table, "Key": key}} for table, key in keys]
    for attempt in range(CONFLICT_ATTEMPTS):
        try:
            response = db.transact_get_items(TransactItems=request)
        except db.exceptions.TransactionCanceledException:
            time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 - jitter, not a secret
            continue
        return [answer.get("Item") for answer in response["Responses"]]
    raise ConcurrentUpdate("the items kept changing while being read; retry the request")
