"""What every adapter over one DynamoDB table starts from."""

from __future__ import annotations

from typing import Any

from payments.adapters.aws import client


class TableAdapter:
    """An adapter over the table named `table`, through the function's one DynamoDB client (made once
    per process and kept warm; tests and the local stack point it at moto)."""

    def __init__(self, table: str) -> None:
        self.table = table

    @property
    def _db(self) -> Any:
        return client("dynamodb")
