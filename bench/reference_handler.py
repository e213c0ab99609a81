"""The yardstick for cold starts: a conventional handler, written the way most Lambda tutorials do it.

Everything is imported and built at module scope (boto3, stripe, pydantic, Powertools Logger, Tracer and
Metrics, a DynamoDB client), and the handler reads one item. Our functions' budgets are fractions of
this handler's cold start, measured in the same run, the same way.
"""

import os
from typing import Any

import boto3
import stripe
from aws_lambda_powertools import Logger, Metrics, Tracer
from pydantic import BaseModel

logger = Logger(service="payments")
tracer = Tracer(service="payments")
metrics = Metrics(namespace="Payments", service="payments")
dynamodb = boto3.client("dynamodb")
TABLE = os.environ.get("PAYMENTS_TABLE", "payments")
stripe.api_key = os.environ.get("STRIPE_API_KEY", "sk_test_reference")


class PaymentKey(BaseModel):
    payment_id: str


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    key = PaymentKey(payment_id=(event.get("pathParameters") or {}).get("payment_id", "pay_missing"))
    item = dynamodb.get_item(
        TableName=TABLE, Key={"pk": {"S": f"PAYMENT#{key.payment_id}"}, "sk": {"S": "STATE"}}
    ).get("Item")
    return {"statusCode": 200 if item else 404, "body": "{}"}
