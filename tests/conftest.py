"""Test-wide settings: a fake AWS account, local resource names, and fast, deterministic Powertools."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from infra import catalog
from infra.local.resources import function_environment
from tests.support import one_request_per_thread

one_request_per_thread.install()

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "OUTBOX_MIN_AGE_SECONDS": "0",
        "STRIPE_MAX_NETWORK_RETRIES": "0",
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
# In-process tests run every function in one interpreter: give it the union of their variables.
for _fn in catalog.FUNCTIONS:
    os.environ.update(function_environment(_fn))


# No test may depend on the date it runs: `make test-future` sets TEST_CLOCK_SHIFT_DAYS and every
# in-process test runs with the clock that many days ahead (time.time, datetime.now and their kin; the
# monotonic clock is left alone). Tests marked e2e drive a stack in other processes, which read the
# machine's clock: they run unshifted, and the future run leaves them out (make test runs them).
@pytest.fixture(autouse=True)
def shifted_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    days = int(os.environ.get("TEST_CLOCK_SHIFT_DAYS") or 0)
    if not days or request.node.get_closest_marker("e2e"):
        yield
        return
    import time_machine

    with time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True):
        yield
