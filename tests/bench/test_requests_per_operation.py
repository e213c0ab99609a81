"""Every operation makes exactly the requests its common path needs (bench/design.py states each and
why), and reads no item twice.

Request counts are deterministic, unlike timings, so they are asserted: an extra GetItem, a second
PutEvents or a re-read of an item the call already holds fails here before it reaches a bill.
"""

from __future__ import annotations

import pytest

from bench import design
from infra import catalog
from tests.support.bench import run_bench

OPERATIONS = [fn.name for fn in catalog.FUNCTIONS]


@pytest.fixture(scope="module")
def operations(tmp_path_factory: pytest.TempPathFactory) -> dict:
    arguments = ["--only", "warm", "--warm-calls", "1", "--detailed-calls", "2"]
    results, _ = run_bench(arguments, tmp_path_factory.mktemp("requests"))
    return results["warm"]["operations"]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_requests_are_the_design_minimum(operations, operation):
    requests = operations[operation]["requests"]
    assert requests["variants"] == 1, "every detailed call should take the same path"
    sequence = [f"{r['service']}:{r['operation']}" for r in requests["sequence"]]
    assert requests["per_call"] == design.minimum_requests(operation), sequence


@pytest.mark.parametrize("operation", OPERATIONS)
def test_no_item_is_read_twice(operations, operation):
    totals = operations[operation]["requests"]["totals_per_call"]
    assert totals.get("dynamodb.rereads", 0) == 0
    assert totals.get("dynamodb.reads_of_own_writes", 0) == 0
