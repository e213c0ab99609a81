"""One local stack for the e2e session, started as `make dev` starts it; stopped at the end with a check
that no process it started is left."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.launcher import LaunchedStack
from tests.e2e.frontend import Frontend, start_stack

WEBHOOK_SECRET = "whsec_e2e_configured_secret"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaunchedStack]:
    launched = start_stack(tmp_path_factory.mktemp("stack"), STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    yield launched
    leftovers = launched.stop()
    assert leftovers == [], f"make dev left processes running: {leftovers}"


@pytest.fixture
def frontend(stack: LaunchedStack) -> Frontend:
    return Frontend(stack)
