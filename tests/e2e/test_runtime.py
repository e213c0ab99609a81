"""Function workers behave like Lambda containers: cold then warm, a failure keeps the container, a
timeout kills it, edited code gets a fresh one, and stopping leaves no process."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra import catalog
from infra.local.environment import base_environment
from infra.local.runtime import FunctionPool, InvocationError
from infra.local.settings import ROOT

pytestmark = pytest.mark.e2e

HANDLER = """
import os, time
def handler(event, context):
    if event.get("fail"):
        raise ValueError("bad input")
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid(), "version": VERSION, "table": os.environ.get("PAYMENTS_TABLE"),
            "remaining_ms": context.get_remaining_time_in_millis(),
            "stripe": os.environ.get("STRIPE_API_KEY")}
"""


def write_function(root: Path, version: int) -> None:
    folder = root / "functions" / "get_payment"
    folder.mkdir(parents=True, exist_ok=True)
    (root / "functions" / "__init__.py").touch()
    (folder / "app.py").write_text(f"VERSION = {version}\n{HANDLER}")


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[tuple[FunctionPool, list[str]]]:
    write_function(tmp_path, 1)
    env = {
        **base_environment(),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "PAYMENTS_TABLE": "payments",
    }
    lines: list[str] = []
    functions = FunctionPool(
        lambda fn: env, lambda name, line: lines.append(f"{name}: {line}"), root=tmp_path
    )
    yield functions, lines
    functions.stop()
    assert functions.pids() == []


def test_cold_then_warm_in_the_same_container(pool: tuple[FunctionPool, list[str]]) -> None:
    functions, lines = pool

    first = functions.invoke("get_payment", {})
    second = functions.invoke("get_payment", {})

    assert first.init_ms is not None
    assert second.init_ms is None
    assert first.result["pid"] == second.result["pid"]
    assert first.result["table"] == "payments"
    assert first.result["stripe"] is None  # nothing from the developer's shell
    assert 0 < first.result["remaining_ms"] <= catalog.function("get_payment").timeout_s * 1000
    assert logged(lines, "get_payment: REPORT RequestId:")


def logged(lines: list[str], fragment: str, timeout_s: float = 10.0) -> bool:
    """Whether a line holding `fragment` arrives: workers' logs are read on a thread of their own, so
    a line may follow the answer it belongs to."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(fragment in line for line in lines):
            return True
        time.sleep(0.05)
    return False


def test_a_failing_invocation_keeps_the_container_warm(pool: tuple[FunctionPool, list[str]]) -> None:
    functions, lines = pool
    before = functions.invoke("get_payment", {}).result["pid"]

    with pytest.raises(InvocationError) as failure:
        functions.invoke("get_payment", {"fail": True})

    assert (failure.value.kind, failure.value.error_type, str(failure.value)) == (
        "error",
        "ValueError",
        "bad input",
    )
    assert functions.invoke("get_payment", {}).result["pid"] == before
    assert logged(lines, "ValueError: bad input")


def test_a_timeout_kills_the_container(pool: tuple[FunctionPool, list[str]]) -> None:
    functions, _ = pool
    before = functions.invoke("get_payment", {}).result["pid"]

    with pytest.raises(InvocationError) as failure:
        functions.invoke("get_payment", {"sleep": 5}, timeout_s=0.5)

    assert failure.value.kind == "timeout"
    assert str(failure.value) == "Task timed out after 0.50 seconds"
    assert functions.invoke("get_payment", {}).result["pid"] != before


def test_edited_code_gets_a_fresh_container(pool: tuple[FunctionPool, list[str]], tmp_path: Path) -> None:
    functions, _ = pool
    assert functions.invoke("get_payment", {}).result["version"] == 1

    time.sleep(1.1)  # code versions are looked up at most once a second
    write_function(tmp_path, 2)
    os.utime(tmp_path / "functions" / "get_payment" / "app.py")

    assert functions.invoke("get_payment", {}).result["version"] == 2


def test_an_import_error_is_reported_not_fatal(pool: tuple[FunctionPool, list[str]], tmp_path: Path) -> None:
    functions, _ = pool
    (tmp_path / "functions" / "get_payment" / "app.py").write_text("import does_not_exist\n")

    with pytest.raises(InvocationError) as failure:
        functions.invoke("get_payment", {})

    assert failure.value.kind == "init"
    assert "ModuleNotFoundError" in str(failure.value)


def test_a_missing_function_is_reported(pool: tuple[FunctionPool, list[str]]) -> None:
    functions, _ = pool

    with pytest.raises(InvocationError) as failure:
        functions.invoke("refund_payment", {})

    assert failure.value.kind == "missing"


def test_requests_waiting_for_a_busy_function_are_served_in_arrival_order(tmp_path: Path) -> None:
    """One container, busy: those who wait get it first come, first served, not whoever wakes first
    (which let a request lose to later ones again and again under load)."""
    import threading

    write_function(tmp_path, 1)
    env = {**base_environment(), "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    functions = FunctionPool(lambda fn: env, lambda name, line: None, root=tmp_path, max_per_function=1)
    served: list[int] = []
    try:
        functions.invoke("get_payment", {})  # the container is warm: what follows only waits for it
        holder = threading.Thread(target=functions.invoke, args=("get_payment", {"sleep": 1.0}))
        holder.start()
        time.sleep(0.2)

        def wait_in_line(n: int) -> None:
            functions.invoke("get_payment", {})
            served.append(n)

        waiting = [threading.Thread(target=wait_in_line, args=(n,)) for n in range(6)]
        for thread in waiting:
            thread.start()
            time.sleep(0.05)  # arrivals in a known order, all before the holder is done
        for thread in [holder, *waiting]:
            thread.join(timeout=30)
    finally:
        functions.stop()
    assert served == list(range(6))
