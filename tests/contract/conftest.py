"""tests/contract: the `contract_fuzz` marker, and the local stack the fuzz test drives (started as
`make dev` starts it, the way tests/e2e does, for the fuzz module only)."""

from __future__ import annotations

import email.utils
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from infra.local.client import ApiClient, request
from infra.local.gateway import HEALTH_PATH
from infra.local.launcher import LaunchedStack
from infra.local.tokens import issue_token
from tests.e2e.frontend import start_stack

FUZZ_MARKER = "contract_fuzz"
CUSTOMER = "fuzz-customer"
ADMIN = "fuzz-admin"
WEBHOOK_SECRET = "whsec_contract_fuzz_secret"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{FUZZ_MARKER}: schemathesis over every operation of openapi.json against the local stack "
        f"(a few minutes; select with -m {FUZZ_MARKER}, skip with -m 'not {FUZZ_MARKER}')",
    )


@dataclass(frozen=True)
class FuzzTarget:
    stack: LaunchedStack
    customer_token: str
    admin_token: str

    @property
    def api_url(self) -> str:
        return self.stack.state.api_url

    def customer(self) -> ApiClient:
        return ApiClient(self.api_url, self.customer_token)

    def admin(self) -> ApiClient:
        return ApiClient(self.api_url, self.admin_token)


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    """A local stack of its own (module scope: it is stopped before other modules start theirs), with a
    customer's and an admin's token issued on the stack's clock."""
    launched = start_stack(tmp_path_factory.mktemp("fuzz-stack"), STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    try:
        now = stack_time(launched)
        secret = launched.state.jwt_secret
        yield FuzzTarget(
            launched,
            customer_token=issue_token(secret, CUSTOMER, now=now),
            admin_token=issue_token(secret, ADMIN, admin=True, now=now),
        )
    finally:
        leftovers = launched.stop()
    assert leftovers == [], f"make dev left processes running: {leftovers}"


def stack_time(stack: LaunchedStack) -> float:
    """The stack's clock (its gateway's Date header): tokens issued on it are valid whatever this
    process's clock says (the suite also runs with the test process's clock moved a year ahead)."""
    api = urlsplit(stack.state.api_url)
    answer = request("GET", f"{api.scheme}://{api.netloc}{HEALTH_PATH}", timeout_s=30)
    date = answer.header("Date")
    assert answer.status == 200, answer
    assert date, "the gateway sends a Date header"
    return email.utils.parsedate_to_datetime(date).timestamp()
