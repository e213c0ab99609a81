"""One local stack for the e2e session, started as `make dev` starts it; stopped at the end with a check
that no process it started is left."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.common import rules_letting_payments_through
from infra.local.launcher import LaunchedStack
from tests.e2e.frontend import Frontend, start_stack

WEBHOOK_SECRET = "whsec_e2e_configured_secret"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on the session's stack is e2e whether or not its module says so: the stack runs in other
    processes on the machine's clock, so `make test-future` must leave it out."""
    for item in items:
        if "stack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaunchedStack]:
    launched = start_stack(tmp_path_factory.mktemp("stack"), STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    # The session pays as a few customers from one address, far more often than the default risk rules
    # allow in an hour: the checks before Stripe have tests of their own (tests/integration/risk_checks).
    stored = Frontend(launched).admin.call("PUT", "/risk/rules", rules_letting_payments_through())
    assert stored.status == 200, stored.json
    yield launched
    leftovers = launched.stop()
    assert leftovers == [], f"make dev left processes running: {leftovers}"


@pytest.fixture
def frontend(stack: LaunchedStack) -> Frontend:
    return Frontend(stack)
