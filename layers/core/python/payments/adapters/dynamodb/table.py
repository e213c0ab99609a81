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

    def _query_all(self, **request: Any) -> list[dict[str, Any]]:
        """Every item a Query matches, page after page (DynamoDB stops each page at 1 MB)."""
        request = {"TableName": self.table, **request}
        items: list[dict[str, Any]] = []
        while True:
            response = self._db.query(**request)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
