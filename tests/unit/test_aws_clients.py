"""One boto3 client per service per process, and one set of its exception classes, even when the first
calls or the first errors race on threads: a second set would not match the other's `except` clauses
(seen as a 500 when five concurrent saves of one card met their first conditional failure together)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from payments.adapters import aws


def on_racing_threads(first_use: Callable[[], Any], threads: int = 8) -> list[Any]:
    """`first_use` on fresh clients, from `threads` threads let go at once."""
    aws.reset()
    start = threading.Barrier(threads)
    got: list[Any] = []

    def run() -> None:
        start.wait()
        got.append(first_use())

    racing = [threading.Thread(target=run) for _ in range(threads)]
    for thread in racing:
        thread.start()
    for thread in racing:
        thread.join()
    return got


def test_racing_first_calls_share_one_client():
    try:
        got = on_racing_threads(lambda: aws.client("dynamodb"))
        assert len({id(c) for c in got}) == 1
        assert (
            got[0].exceptions.ConditionalCheckFailedException
            is aws.client("dynamodb").exceptions.ConditionalCheckFailedException
        )
    finally:
        aws.reset()


def test_errors_met_first_on_racing_threads_have_one_class():
    # Threads switching as often as they can: without the classes made at build time, nearly every
    # round gave some thread a ConditionalCheckFailedException its own `except` would not catch.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(20):
            classes = on_racing_threads(
                lambda: aws.client("dynamodb").exceptions.ConditionalCheckFailedException
            )
            assert len(set(classes)) == 1
    finally:
        sys.setswitchinterval(interval)
        aws.reset()
