"""Query parameters that several routes take the same way (names, formats and descriptions in one place,
so the OpenAPI document says the same of each)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

_DAY = {"format": "date"}

FirstDay = Annotated[
    str | None, Query(alias="from", description="First day, UTC (default: today)", json_schema_extra=_DAY)
]
LastDay = Annotated[
    str | None, Query(alias="to", description="Last day, UTC (default: today)", json_schema_extra=_DAY)
]
