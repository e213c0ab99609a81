"""What each dependency costs at cold start, alone, in fresh interpreters (the numbers behind "import only
what a function uses"). Each row times one statement after an untimed setup, so a client's row does not
include importing its library."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench import common
from bench.cold import run_probe
from bench.common import summarize


@dataclass(frozen=True)
class Snippet:
    name: str
    stmt: str
    setup: str = ""
    tracing: bool = False  # run with the X-Ray variables of a Lambda with active tracing


_ROUTE = """
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel


class Order(BaseModel):
    order_id: str
    amount: int


app = APIGatewayRestResolver(enable_validation={validation})


@app.post("/payments")
def create({parameter}) -> dict:
    return {{"ok": {body}}}


event = {{
    "httpMethod": "POST", "path": "/payments", "resource": "/payments",
    "headers": {{"content-type": "application/json"}}, "multiValueHeaders": {{}},
    "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
    "requestContext": {{"httpMethod": "POST", "resourcePath": "/payments", "stage": "v1", "requestId": "r"}},
    "body": '{{"order_id": "o-1", "amount": 5}}', "isBase64Encoded": False,
}}
"""

_VALIDATED = _ROUTE.format(validation=True, parameter="order: Order", body="order.amount")
_UNVALIDATED = _ROUTE.format(
    validation=False, parameter="", body="Order(**app.current_event.json_body).amount"
)

SNIPPETS: tuple[Snippet, ...] = (
    Snippet("interpreter baseline (nothing)", "pass"),
    Snippet("import boto3", "import boto3"),
    Snippet("boto3.client('dynamodb'), boto3 imported", "boto3.client('dynamodb')", "import boto3"),
    Snippet(
        "2nd client: events (after dynamodb)",
        "boto3.client('events')",
        "import boto3\nboto3.client('dynamodb')",
    ),
    Snippet(
        "3rd client: secretsmanager (after 2)",
        "boto3.client('secretsmanager')",
        "import boto3\nboto3.client('dynamodb')\nboto3.client('events')",
    ),
    Snippet("import stripe", "import stripe"),
    Snippet("stripe.StripeClient(...), stripe imported", "stripe.StripeClient('sk_test_x')", "import stripe"),
    Snippet("import pydantic (BaseModel)", "from pydantic import BaseModel"),
    Snippet(
        "one pydantic model class, pydantic imported",
        "class M(BaseModel):\n    a: int\n    b: str\n    c: dict[str, str] = {}",
        "from pydantic import BaseModel",
    ),
    Snippet("Powertools Logger()", "from aws_lambda_powertools import Logger\nLogger(service='x')"),
    Snippet(
        "Powertools Metrics()",
        "from aws_lambda_powertools import Metrics\nMetrics(namespace='x', service='x')",
    ),
    Snippet(
        "Powertools Tracer(), tracing on (Lambda)",
        "from aws_lambda_powertools import Tracer\nTracer(service='x')",
        tracing=True,
    ),
    Snippet(
        "Powertools Tracer(auto_patch=False), tracing on",
        "from aws_lambda_powertools import Tracer\nTracer(service='x', auto_patch=False)",
        tracing=True,
    ),
    Snippet(
        "Powertools Tracer(), POWERTOOLS_TRACE_DISABLED",
        "from aws_lambda_powertools import Tracer\nTracer(service='x')",
    ),
    Snippet(
        "X-Ray SDK: patch(['botocore']) only, tracing on",
        "from aws_xray_sdk.core import patch\npatch(['botocore'])",
        tracing=True,
    ),
    Snippet(
        "import Powertools event_handler (REST resolver)",
        "from aws_lambda_powertools.event_handler import APIGatewayRestResolver",
    ),
    Snippet(
        "REST resolver, validation OFF: import+route+first resolve",
        _UNVALIDATED + "\napp.resolve(event, None)",
    ),
    Snippet(
        "REST resolver, validation ON: import+route+first resolve", _VALIDATED + "\napp.resolve(event, None)"
    ),
    Snippet("REST resolver, validation ON: first resolve only", "app.resolve(event, None)", _VALIDATED),
    Snippet(
        "import Powertools idempotency utility",
        "from aws_lambda_powertools.utilities.idempotency import (\n"
        "    DynamoDBPersistenceLayer, idempotent_function\n)",
    ),
    Snippet(
        "import Powertools parameters (SecretsProvider)",
        "from aws_lambda_powertools.utilities.parameters import SecretsProvider",
    ),
    Snippet("import joserfc's JWT and keys (cryptography's bindings)", "from joserfc import jwk, jwt"),
    Snippet(
        "verify one order token, joserfc imported",
        "JoseOrderTokens(lambda: KEYS, 'orders').verify(TOKEN)",
        "import json\n"
        "from infra.local.resources import local_order_token_keys\n"
        "from infra.local.tokens import issue_order_token\n"
        "from payments.adapters.order_tokens import JoseOrderTokens\n"
        "KEYS = json.dumps(local_order_token_keys())\n"
        "TOKEN = issue_order_token('order-1', 2599, 'usd', 'cus_1')",
    ),
    Snippet("import payments.http.api (our API glue)", "import payments.http.api"),
    Snippet("import payments.domain.events (pydantic models)", "import payments.domain.events"),
)


def measure(samples: int, rows: int | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {}
    env_off = common.child_environment(common.lambda_like("deps", 512, tracing=False))
    env_on = common.child_environment(common.lambda_like("deps", 512, tracing=True))
    for snippet in SNIPPETS[:rows]:
        spec = {"kind": "snippet", "setup": snippet.setup, "stmt": snippet.stmt}
        env = env_on if snippet.tracing else env_off
        run_probe(spec, env)  # discarded: bytecode and page caches
        times, errors = [], []
        for _ in range(samples):
            result, _stderr = run_probe(spec, env)
            if "ms" in result:
                times.append(result["ms"])
            else:
                errors.append(str(result.get("error")))
        results[snippet.name] = {"ms": summarize(times), "errors": errors[:1]}
    return {"samples": samples, "rows": results}
