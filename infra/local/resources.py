"""Create the AWS resources of the catalog in moto (tests in-process, or the local moto server).

Same names, keys, indexes and rule patterns as the CDK stack, because both read infra/catalog.py.
"""

from __future__ import annotations

import json
from typing import Any

from infra import catalog
from infra.local.settings import ORDER_TOKEN_PRIVATE_JWK

LOCAL_NAMES: dict[str, str] = {
    **{t.name: t.name for t in catalog.TABLES},
    **{s.name: s.name for s in catalog.SECRETS},
}
LOCAL_BUS = catalog.EVENT_BUS
LOCAL_ARCHIVE = f"{catalog.EVENT_BUS}-archive"


def create_tables(dynamodb: Any, names: dict[str, str] = LOCAL_NAMES) -> None:
    for table in catalog.TABLES:
        keys = [(table.partition_key, "HASH")] + ([(table.sort_key, "RANGE")] if table.sort_key else [])
        attributes = {name for name, _ in keys}
        indexes = []
        for index in table.indexes:
            index_keys = [(index.partition_key, "HASH")] + (
                [(index.sort_key, "RANGE")] if index.sort_key else []
            )
            attributes.update(name for name, _ in index_keys)
            indexes.append(
                {
                    "IndexName": index.name,
                    "KeySchema": [{"AttributeName": n, "KeyType": k} for n, k in index_keys],
                    "Projection": {"ProjectionType": index.projection},
                }
            )
        request: dict[str, Any] = {
            "TableName": names[table.name],
            "KeySchema": [{"AttributeName": n, "KeyType": k} for n, k in keys],
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if indexes:
            request["GlobalSecondaryIndexes"] = indexes
        dynamodb.create_table(**request)
        if table.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=names[table.name],
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )


def create_bus(events: Any, bus_name: str = LOCAL_BUS) -> str:
    return str(events.create_event_bus(Name=bus_name)["EventBusArn"])


def create_archive(events: Any, bus_arn: str, name: str = LOCAL_ARCHIVE) -> str:
    """The bus's archive, of the sources the CDK stack archives (what `archive replay` replays)."""
    pattern = {"source": list(catalog.ARCHIVED_SOURCES)}
    archive = events.create_archive(
        ArchiveName=name, EventSourceArn=bus_arn, EventPattern=json.dumps(pattern)
    )
    return str(archive["ArchiveArn"])


def create_secrets(
    secretsmanager: Any,
    *,
    stripe_api_key: str,
    webhook_secret: str,
    previous_webhook_secret: str | None = None,
    cursor_key: str = "local-cursor-signing-key",
    order_token_keys: dict[str, dict[str, str]] | None = None,
    names: dict[str, str] = LOCAL_NAMES,
) -> None:
    """The catalog's secrets; the order token keys default to the local Order Service's public key."""
    values = {
        catalog.STRIPE_API_KEY.name: stripe_api_key,
        catalog.STRIPE_WEBHOOK_SECRETS.name: json.dumps(
            {
                "current": webhook_secret,
                **({"previous": previous_webhook_secret} if previous_webhook_secret else {}),
            }
        ),
        catalog.CURSOR_KEY.name: cursor_key,
        catalog.ORDER_TOKEN_KEYS.name: json.dumps(order_token_keys or local_order_token_keys()),
    }
    for secret in catalog.SECRETS:
        secretsmanager.create_secret(Name=names[secret.name], SecretString=values[secret.name])


def local_order_token_keys() -> dict[str, dict[str, str]]:
    """The order token keys secret of the local stack: the local key pair's public half, as current."""
    public = {name: value for name, value in ORDER_TOKEN_PRIVATE_JWK.items() if name != "d"}
    return {"current": public}


def function_environment(fn: catalog.Function, names: dict[str, str] = LOCAL_NAMES) -> dict[str, str]:
    """What CDK sets on the function, for the local names."""
    return {
        "POWERTOOLS_SERVICE_NAME": catalog.SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": catalog.METRICS_NAMESPACE,
        **catalog.environment(fn, names, LOCAL_BUS),
    }


def subscriber_queue_names(fn: catalog.Function) -> tuple[str, str]:
    return f"{fn.name}-events", f"{fn.name}-dlq"


def create_subscriber_routes(events: Any, sqs: Any, bus_name: str = LOCAL_BUS) -> dict[str, tuple[str, str]]:
    """Each catalog subscriber's rule, with the catalog's pattern, delivering to an SQS queue (moto
    cannot target Lambda); a dispatcher invokes the handler from there. Returns name -> (queue, dlq) URLs."""
    routes: dict[str, tuple[str, str]] = {}
    for fn in catalog.subscribers():
        assert fn.subscription is not None
        queue_name, dlq_name = subscriber_queue_names(fn)
        queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
        dlq_url = sqs.create_queue(QueueName=dlq_name)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name=fn.name,
            EventBusName=bus_name,
            EventPattern=json.dumps(fn.subscription.pattern()),
        )
        events.put_targets(Rule=fn.name, EventBusName=bus_name, Targets=[{"Id": fn.name, "Arn": queue_arn}])
        routes[fn.name] = (queue_url, dlq_url)
    return routes
