"""boto3 clients, built on first use and reused while the function is warm.

Never at import time: that would cost cold-start time for functions that do not need a client and,
in tests, escape moto's mock.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

# A boto3 session is not safe to build clients from concurrently, and two threads racing a first call
# would each keep a client of their own, whose exception classes the other's `except` would not match.
# botocore also makes a client's exception classes on their first use, unlocked: two threads meeting
# their first error together could each make a set, so `_built` makes them while the lock is held.
_building = threading.Lock()


def _built(new_client: Any) -> Any:
    new_client.exceptions  # noqa: B018 - made now, once (about 1 ms), not on the first error
    return new_client


def client(service: str) -> Any:
    with _building:
        return _client(service)


@cache
def _client(service: str) -> Any:
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=5,
        tcp_keepalive=True,
    )
    return _built(_session().client(service, config=config))


def timed_client(service: str, timeout_s: float) -> Any:
    """A client that waits at most `timeout_s` for an answer and asks once (botocore retries nothing):
    for calls whose caller has a deadline of its own and decides what a failure means."""
    with _building:
        return _timed_client(service, timeout_s)


@cache
def _timed_client(service: str, timeout_s: float) -> Any:
    from botocore.config import Config

    config = Config(
        retries={"total_max_attempts": 1},
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
        tcp_keepalive=True,
    )
    return _built(_session().client(service, config=config))


@cache
def _session() -> Any:
    """One session for every client: a second session would load the SDK's data files again (~70 ms
    of cold start for three clients, measured by `make bench`)."""
    import boto3

    return boto3.session.Session()


def reset() -> None:
    """Forget cached clients (tests start a fresh mock per test)."""
    _client.cache_clear()
    _timed_client.cache_clear()
    _session.cache_clear()
