"""The local stack's moto keeps DynamoDB's transaction semantics with item-level rollback
(infra/local/moto_patches.py; every integration test runs on it)."""

from __future__ import annotations

import pytest


def _item(pk: str, **values: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": "STATE"}, **{k: {"S": v} for k, v in values.items()}}


def _get(db, pk: str) -> dict | None:
    return db.get_item(TableName="payments", Key={"pk": {"S": pk}, "sk": {"S": "STATE"}}).get("Item")


def test_a_cancelled_transaction_leaves_every_item_as_it_was(aws):
    db = aws["dynamodb"]
    db.put_item(TableName="payments", Item=_item("changed", status="before"))
    db.put_item(TableName="payments", Item=_item("deleted", status="kept"))
    with pytest.raises(db.exceptions.TransactionCanceledException):
        db.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "payments", "Item": _item("changed", status="after")}},
                {"Put": {"TableName": "payments", "Item": _item("created")}},
                {"Delete": {"TableName": "payments", "Key": {"pk": {"S": "deleted"}, "sk": {"S": "STATE"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "payments",
                        "Key": {"pk": {"S": "missing"}, "sk": {"S": "STATE"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert _get(db, "changed") == _item("changed", status="before")
    assert _get(db, "created") is None
    assert _get(db, "deleted") == _item("deleted", status="kept")


def test_a_committed_transaction_applies_every_write(aws):
    db = aws["dynamodb"]
    db.put_item(TableName="payments", Item=_item("changed", status="before"))
    db.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "payments", "Item": _item("changed", status="after")}},
            {"Put": {"TableName": "payments", "Item": _item("created")}},
        ]
    )
    assert _get(db, "changed") == _item("changed", status="after")
    assert _get(db, "created") == _item("created")


def test_the_servers_hot_paths_parse_and_list_once_and_answer_the_same():
    from jsonpath_ng import ext
    from moto import backends

    from infra.local.moto_patches import server_hot_paths

    listed = list(backends.list_of_moto_modules())
    undo = server_hot_paths()
    try:
        assert ext.parse("$.detail") is ext.parse("$.detail")
        assert ext.parse("$.detail").find({"detail": {"a": 1}})[0].value == {"a": 1}
        assert list(backends.list_of_moto_modules()) == listed
    finally:
        undo()
    assert ext.parse("$.detail") is not ext.parse("$.detail")


def test_sqs_still_keeps_a_message_only_for_its_queues_retention_period(aws):
    import boto3
    from moto.sqs.models import Queue, sqs_backends

    from infra.local.moto_patches import server_hot_paths

    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="kept", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    queue = sqs_backends["123456789012"]["us-east-1"].get_queue("kept")
    undo = server_hot_paths()
    attributes_built = []
    original = Queue.attributes
    try:
        sqs.send_message(QueueUrl=url, MessageBody="fresh")
        Queue.attributes = property(lambda q: attributes_built.append(q.name) or original.fget(q))  # type: ignore[method-assign]
        received = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
        assert [m["Body"] for m in received] == ["fresh"]
        # Sent 61 s ago on a queue that keeps messages 60 s: gone, as in SQS.
        queue._messages[0].sent_timestamp -= 61_000
        assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
        assert attributes_built == []  # the retention was read without counting the queue's messages
    finally:
        Queue.attributes = original  # type: ignore[method-assign]
        undo()
