"""Names in the deployed stack: construct ids from catalog names (`payment_methods` -> `PaymentMethods`),
and the physical names of what operators look up by name (functions, dead-letter queues, the bus).

Plain functions of the stage, without CDK, so the operator tools (tools/operations) find a deployed
stage's resources by the same names the stack gives them.
"""

from __future__ import annotations

import re

from infra import catalog

PROD = "prod"


def construct_id(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def physical_name(base: str, stage: str) -> str:
    """Physical names carry the stage outside prod, so stages can share an account."""
    return base if stage == PROD else f"{base}-{stage}"


def function_name(stage: str, function: str) -> str:
    """A catalog function's Lambda name: `payments-dev-payment_status`, `payments-payment_status` in prod."""
    return f"{physical_name(catalog.SERVICE_NAME, stage)}-{function}"


def dead_letter_queue_name(stage: str, function: str) -> str:
    """The function's one dead-letter queue (its rules' target DLQ and its async on-failure destination)."""
    return f"{function_name(stage, function)}-dlq"
