"""Payment method helpers: save, read back, and the table's raw items."""

from __future__ import annotations

from typing import Any

import boto3

from tests.support.api import ApiResponse, call


def save(pm: str = "pm_card_visa", sub: str = "cus_alice", **kwargs: Any) -> ApiResponse:
    return call("POST", "/payment-methods", sub=sub, body={"payment_method_id": pm}, **kwargs)


def saved(pm: str = "pm_card_visa", sub: str = "cus_alice") -> dict[str, Any]:
    response = save(pm, sub)
    assert response.status == 201, response.body
    return dict(response.body)


def table_items() -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName="payment_methods")["Items"]


def sort_keys() -> list[tuple[str, str]]:
    return sorted((i["pk"]["S"], i["sk"]["S"]) for i in table_items())
