"""The budgets table says "met" only when every function is within budget, as deployed."""

from __future__ import annotations

from bench.report import budgets_section


def _cold(**functions: dict) -> dict:
    entries = {"reference": {"kind": "reference", "modes": {"isolated": {"ratio_to_reference": 1.0}}}}
    entries.update(functions)
    return {"cold": {"budget": {"api": 0.5, "webhook": 0.4, "on_demand": 0.8}, "functions": entries}}


def _api(ratio: float, snapstart: bool = False, restored: bool = True) -> dict:
    mode = {"ratio_to_reference": ratio, "restore_measured": restored}
    return {"kind": "api", "snapstart": snapstart, "modes": {"snapstart" if snapstart else "isolated": mode}}


def _row(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| {start}"))


def test_within_budget_is_met():
    text = budgets_section(_cold(get_payment=_api(0.3, snapstart=True), stripe_webhook=_api(0.39)))
    assert _row(text, "cold start of API functions").rstrip(" |").endswith("met")
    assert _row(text, "cold start of the webhook").rstrip(" |").endswith("met")


def test_a_ratio_over_budget_is_missed_and_named():
    text = budgets_section(
        _cold(get_payment=_api(0.3), process_payment=_api(0.51), stripe_webhook=_api(0.41))
    )
    assert "MISSED: process_payment (0.51)" in _row(text, "cold start of API functions")
    assert "MISSED: stripe_webhook (0.41)" in _row(text, "cold start of the webhook")


def test_a_snapstart_function_without_a_measured_restore_is_missed():
    text = budgets_section(_cold(get_payment=_api(0.1, snapstart=True, restored=False)))
    assert "MISSED: get_payment (restore not measured)" in _row(text, "cold start of API functions")


def _on_demand(ratio: float) -> dict:
    return {"kind": "subscriber", "snapstart": False, "modes": {"isolated": {"ratio_to_reference": ratio}}}


def test_on_demand_functions_are_judged_on_their_own_budget():
    text = budgets_section(_cold(accounting=_on_demand(0.79), outbox_relay=_on_demand(0.81)))
    row = _row(text, "cold start of on-demand functions <= 0.8")
    assert row.split("|")[2].strip() == "2"  # judged
    assert "MISSED: outbox_relay (0.81)" in row
    assert "accounting" not in row
