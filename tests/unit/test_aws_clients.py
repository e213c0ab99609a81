"""One boto3 client per service per process, even when the first calls race on threads: a second
client's exception classes would not match the first's `except` clauses."""

from __future__ import annotations

import threading

from payments.adapters import aws


def test_racing_first_calls_share_one_client():
    aws.reset()
    start = threading.Barrier(8)
    got: list[object] = []

    def first_call() -> None:
        start.wait()
        got.append(aws.client("dynamodb"))

    threads = [threading.Thread(target=first_call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len({id(c) for c in got}) == 1
        assert (
            got[0].exceptions.ConditionalCheckFailedException
            is aws.client("dynamodb").exceptions.ConditionalCheckFailedException
        )
    finally:
        aws.reset()
