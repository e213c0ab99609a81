"""`python -m bench` with tiny counts: every section runs end to end and reports something sensible.

It checks that the harness works (processes start, stand-ins answer, numbers and tables come out), not
what the numbers are: timings on a shared test machine are no one's contract.
"""

from __future__ import annotations

import pytest

from bench import restore
from tests.support.bench import run_bench

FUNCTIONS = ["get_payment", "process_payment"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    arguments = [
        "--functions", ",".join(FUNCTIONS),
        "--cold-samples", "1", "--cross-check-samples", "1", "--cold-discard", "0",
        "--dep-samples", "1", "--dep-rows", "2",
        "--warm-calls", "3", "--detailed-calls", "1",
        "--size-method", "local",
        "--server", "auto", "--duration", "1", "--clients", "2", "--throughput-ops", "get_payment",
    ]  # fmt: skip
    return run_bench(arguments, tmp_path_factory.mktemp("bench"), timeout=240)


def test_cold_init_samples_every_function_and_the_reference(run):
    results, _ = run
    cold = results["cold"]
    assert set(cold["functions"]) == {"reference", *FUNCTIONS}
    for name, entry in cold["functions"].items():
        for mode in ("isolated", "inprocess"):
            stats = entry["modes"][mode]
            assert stats["ok"] == 1, (name, mode, stats["errors"])
            assert stats["import_ms"]["p50"] > 0
            assert stats["call_ms"]["p50"] > 0
            assert stats["ratio_to_reference"] is not None
        assert entry["modes"]["isolated"]["rss_peak_mb"]["p50"] > 0
        assert entry["importtime"]["import"]["total_ms"] > 0
    assert cold["functions"]["process_payment"]["modes"]["isolated"]["statuses"] == ["201"]


def test_snapstart_samples_are_restored_from_a_checkpoint_when_criu_is_at_hand(run):
    results, text = run
    for name in FUNCTIONS:
        stats = results["cold"]["functions"][name]["modes"]["snapstart"]
        assert stats["ok"] == 1, (name, stats["errors"])
        assert stats["hooks"] == [1, 1]  # priming before the snapshot, reseeding after the restore
        if restore.find_criu() is None:  # CI: no CRIU built, the restore is reported as not measured
            assert not stats["restore_measured"]
            assert "not measured" in text
        else:
            assert stats["restore_measured"]
            assert stats["restore_ms"]["p50"] > 0
            assert stats["image_mb"]["p50"] > 10  # the whole primed interpreter
            assert stats["user_waits_ms"]["p50"] > stats["restore_ms"]["p50"]


def test_warm_latency_and_requests_are_counted(run):
    results, _ = run
    payment = results["warm"]["operations"]["process_payment"]
    assert payment["statuses"] == {"201": 4}  # 3 timed + 1 with request accounting
    assert payment["latency_ms"]["n"] == 3
    totals = payment["requests"]["totals_per_call"]
    assert totals["dynamodb.requests"] >= 1
    assert totals["stripe.requests"] >= 1
    assert totals["dynamodb.write_units"] > 0
    reads = results["warm"]["operations"]["get_payment"]["requests"]["per_call"]
    assert sum(reads.values()) >= 1


def test_size_throughput_deps_and_cost_are_reported(run):
    results, text = run
    assert all(row["as_built_mb"] > 0 for row in results["size"]["functions"].values())
    (load,) = results["throughput"]["runs"]
    assert load["ok"] > 0
    assert load["p99_ms"] is not None
    assert len(results["deps"]["rows"]) == 2
    cost = results["cost"]
    assert cost["total_usd"] > 0
    assert cost["quantities"]["api_requests"] > 0
    titles = ("Cold init", "SnapStart", "Warm latency", "Requests per warm call", "Deployment size")
    titles += ("throughput", "Cost", "Budgets")
    for title in titles:
        assert title in text
