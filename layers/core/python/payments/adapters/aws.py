"""boto3 clients, built on first use and reused while the function is warm.

Never at import time: that would cost cold-start time for functions that do not need a client and,
in tests, escape moto's mock.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=5,
        tcp_keepalive=True,
    )
    return boto3.session.Session().client(service, config=config)


def reset() -> None:
    """Forget cached clients (tests start a fresh mock per test)."""
    client.cache_clear()
