"""The SVG charts: well-formed, one bar per measured value, labels escaped, the same bytes every time."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from bench import charts
from bench.cost import MEASURED_DURATION, PRODUCTION_DURATION

SVG = "{http://www.w3.org/2000/svg}"


def _stats(p50: float) -> dict[str, float]:
    return {"p50": p50, "p99": p50 * 2, "n": 5}


RESULTS: dict[str, Any] = {
    "cold": {
        "samples": 5,
        "functions": {
            "reference": {"kind": "reference", "modes": {"isolated": {"total_ms": _stats(320.0)}}},
            "get_payment": {
                "kind": "api",
                "snapstart": True,
                "modes": {
                    "isolated": {"total_ms": _stats(400.0)},
                    "snapstart": {"user_waits_ms": _stats(80.0), "restore_measured": True},
                },
            },
            "accounting": {"kind": "subscriber", "modes": {"isolated": {"total_ms": _stats(360.0)}}},
        },
    },
    "warm": {
        "calls": 20,
        "operations": {
            "get_payment": {"latency_ms": _stats(4.0)},
            "process_payment": {"latency_ms": _stats(40.0)},
            "janitor": {"skipped": "no scenario for this function"},
        },
    },
    "cost": {
        "usd": {
            "API Gateway (REST)": 8.05,
            "Lambda requests": 0.92,
            MEASURED_DURATION: 0.61,
            PRODUCTION_DURATION: 9.71,
            "DynamoDB read request units": 0.40,
            "DynamoDB write request units (incl. indexes)": 18.12,
        },
        "total_usd": 37.2,
        "region": "us-east-1",
        "assumptions": {"payments": 1_000_000},
    },
}


def parsed(chart: charts.Chart) -> ET.Element:
    return ET.fromstring(charts.svg(chart))


def bars(root: ET.Element) -> list[tuple[str, str, float]]:
    return [
        (rect.attrib["data-label"], rect.attrib["data-series"], float(rect.attrib["width"]))
        for rect in root.iter(f"{SVG}rect")
        if rect.attrib.get("class") == "bar"
    ]


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def by_name(results: dict[str, Any]) -> dict[str, charts.Chart]:
    return {chart.name: chart for chart in charts.charts(results)}


def test_cold_starts_against_the_reference() -> None:
    root = parsed(by_name(RESULTS)["bench-cold-start"])
    assert root.tag == f"{SVG}svg"
    drawn = bars(root)
    assert [(label, series) for label, series, _ in drawn] == [
        ("get_payment", "on demand: import + 1st call"),
        ("get_payment", "SnapStart: restore + 1st call"),
        ("accounting", "on demand: import + 1st call"),
    ]
    widths = {(label, series): width for label, series, width in drawn}
    assert (
        widths[("get_payment", "on demand: import + 1st call")]
        == 5 * widths[("get_payment", "SnapStart: restore + 1st call")]
    )
    assert "400 (1.25x)" in texts(root)  # 400 / 320
    assert "80.0 (0.25x)" in texts(root)
    (marker,) = [line for line in root.iter(f"{SVG}line") if line.attrib.get("class") == "marker"]
    assert "reference 320 ms" in texts(root)
    accounting = widths[("accounting", "on demand: import + 1st call")]  # 360 ms
    assert abs(float(marker.attrib["x1"]) - (charts.LABEL_WIDTH + accounting * 320 / 360)) < 0.2


def test_warm_percentiles_leave_out_what_was_not_measured() -> None:
    root = parsed(by_name(RESULTS)["bench-warm-latency"])
    assert [(label, series) for label, series, _ in bars(root)] == [
        ("get_payment", "p50"),
        ("get_payment", "p99"),
        ("process_payment", "p50"),
        ("process_payment", "p99"),
    ]
    assert "janitor" not in texts(root)
    assert {"8.00", "80.0"} <= set(texts(root))


def test_cost_by_service_counts_the_total_s_lines_only() -> None:
    root = parsed(by_name(RESULTS)["bench-cost"])
    drawn = bars(root)
    assert [label for label, _, _ in drawn] == ["DynamoDB", "Lambda", "API Gateway"]  # most first
    assert "18.52" in texts(root)  # reads and writes together
    assert "10.63" in texts(root)  # requests + production duration, not the measured duration
    assert any("Cost per 1,000,000 payments" in t for t in texts(root))


def test_partition_heat_draws_each_targets_hottest_key_against_the_budget() -> None:
    assert "bench-partition-heat" not in by_name(RESULTS)
    key = {"target": "payments/index/by_status", "pattern": "STATUS#pending#<shard:32>"}
    heat = {
        "payments_per_second": 10000.0,
        "budget_wcu_per_key": 1000.0,
        "keys": [],  # bench/heat.py's whole table; the chart draws only each target's hottest
        "hottest": {
            "payments": {"target": "payments", "pattern": "PAYMENT#<id>", "hottest_key_wcu_per_s": 15.0},
            "payments/index/by_status": {**key, "hottest_key_wcu_per_s": 625.0},
        },
    }
    root = parsed(by_name({**RESULTS, "heat": heat})["bench-partition-heat"])
    assert [label for label, _, _ in bars(root)] == [
        "payments/index/by_status STATUS#pending#<shard:32>",
        "payments PAYMENT#<id>",
    ]
    assert any("budget 1,000 WCU/s" in t for t in texts(root))
    assert any("10,000 payments/s" in t for t in texts(root))


def test_text_is_escaped_and_missing_sections_draw_nothing() -> None:
    warm = {"calls": 1, "operations": {'a<b & "c"': {"latency_ms": _stats(1.0)}}}
    root = parsed(by_name({"warm": warm})["bench-warm-latency"])
    assert 'a<b & "c"' in texts(root)
    assert charts.charts({}) == []
    assert charts.charts({"cold": {"functions": {}}, "warm": {"operations": {}}}) == []


def test_the_same_results_write_the_same_bytes(tmp_path: Path) -> None:
    first = {p.name: p.read_bytes() for p in charts.write(RESULTS, tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in charts.write(RESULTS, tmp_path / "b")}
    assert sorted(first) == ["bench-cold-start.svg", "bench-cost.svg", "bench-warm-latency.svg"]
    assert first == second
