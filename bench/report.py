"""The terminal tables (and the same text for docs/performance.md's "latest results")."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from bench import design
from bench.common import REFERENCE


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], kinds: str) -> str:
    """A Markdown table padded to line up on a terminal too; `kinds` aligns each column l(eft) or r(ight)."""
    cells = [[_text(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.ljust(w) if k == "l" else v.rjust(w) for v, w, k in zip(values, widths, kinds, strict=True)
        ]
        return "| " + " | ".join(parts) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if k == "r" else ("-" * (w + 2)) for w, k in zip(widths, kinds, strict=True)
        )
        + "|"
    )
    return "\n".join([line(list(headers)), rule, *(line(r) for r in cells)])


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return (
            f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
        )
    return str(value)


def _budget_of(cold: dict[str, Any], name: str, entry: dict[str, Any]) -> tuple[str, float] | None:
    """Which cold-start budget a function is judged on: the API's, the webhook's (tighter), or the
    on-demand functions' (subscribers, schedules); None for the reference (or an older results file
    without the on-demand budget)."""
    budget = cold["budget"]
    if name == REFERENCE:
        return None
    if entry["kind"] == "api":
        if name == "stripe_webhook":
            return "the webhook", budget["webhook"]
        return "API functions", budget["api"]
    if not entry.get("snapstart") and "on_demand" in budget:
        return "on-demand functions", budget["on_demand"]
    return None


def _verdict(cold: dict[str, Any], name: str, entry: dict[str, Any], ratio: float | None) -> str:
    budget = _budget_of(cold, name, entry)
    if budget is None or ratio is None:
        return "-"
    return f"<= {budget[1]} ok" if ratio <= budget[1] else f"<= {budget[1]} OVER"


def cold_section(cold: dict[str, Any]) -> str:
    modes = cold["modes"]
    main = "isolated" if "isolated" in modes else modes[0]
    other = "inprocess" if "inprocess" in modes and main != "inprocess" else None
    headers = [
        "function",
        "mem MB",
        "first",
        "import ms",
        "1st call ms",
        "total ms",
        "x ref",
        "budget",
        "CPU x ref",
        "2nd call ms",
        "peak MB",
    ]
    if other:
        headers.append(f"x ref ({other})")
    rows = []
    for name, entry in cold["functions"].items():
        stats = entry["modes"].get(main)
        if stats is None:
            continue
        ratio = stats.get("ratio_to_reference")
        # A SnapStart function's cold start is a restore: judged in the SnapStart table.
        verdict = (
            "SnapStart"
            if entry.get("snapstart") and "snapstart" in modes
            else _verdict(cold, name, entry, ratio)
        )
        row = [
            name,
            entry["memory_mb"],
            ",".join(stats["statuses"]) or "-",
            stats["import_ms"]["p50"],
            stats["call_ms"]["p50"],
            stats["total_ms"]["p50"],
            ratio,
            verdict,
            stats.get("cpu_ratio_to_reference"),
            stats.get("second_ms", {}).get("p50"),
            stats["rss_peak_mb"]["p50"],
        ]
        if other:
            row.append(entry["modes"].get(other, {}).get("ratio_to_reference"))
        rows.append(row)
    title = (
        f"Cold init: median of {cold['samples']} fresh interpreters per function ({main}; tracing "
        f"{'on' if cold['tracing'] else 'off'}; bytecode {cold['bytecode']}). CPU x ref: the same ratio "
        "in the process's CPU time for the import and first call, which other work on the machine does "
        "not inflate"
    )
    text = f"{title}\n\n{table(headers, rows, 'lrlrrrrlrrr' + ('r' if other else ''))}"
    if cold.get("skipped"):
        text += "\n\nSkipped: " + "; ".join(f"{k} ({v})" for k, v in cold["skipped"].items())
    errors = [
        f"{n}: {e['modes'][main]['errors'][0]}"
        for n, e in cold["functions"].items()
        if e["modes"][main]["errors"]
    ]
    if errors:
        text += "\n\nFirst calls that raised (sample events name ids that do not exist): " + "; ".join(errors)
    return text


def snapstart_section(cold: dict[str, Any]) -> str:
    rows = []
    measured = False
    for name, entry in cold["functions"].items():
        stats = entry["modes"].get("snapstart")
        if stats is None:
            continue
        on_demand = entry["modes"].get("isolated", {}).get("call_ms", {}).get("p50")
        hooks = stats.get("hooks") or [0, 0]
        restored = stats.get("restore_measured", False)
        measured = measured or restored
        rows.append(
            [
                name,
                f"{hooks[0]}/{hooks[1]}",
                stats["prime_ms"]["p50"] if hooks[0] else None,
                stats["image_mb"]["p50"] if restored else None,
                stats["restore_ms"]["p50"] if restored else "not measured",
                stats["restore_hooks_ms"]["p50"] if hooks[1] else None,
                stats["call_ms"]["p50"],
                stats["user_waits_ms"]["p50"],
                stats.get("ratio_to_reference"),
                _verdict(cold, name, entry, stats.get("ratio_to_reference")) if restored else "-",
                on_demand,
            ]
        )
    if not rows:
        return ""
    headers = [
        "function",
        "hooks b/a",
        "prime ms",
        "image MB",
        "restore ms",
        "after-restore ms",
        "1st call ms",
        "user waits ms",
        "x ref",
        "budget",
        "on-demand 1st call",
    ]
    how = (
        "the restore timed by checkpointing the primed process with CRIU and restoring it (bench/restore.py)"
        if measured
        else "the restore not measured (no CRIU as root: bench/build_criu.sh), so not included"
    )
    return (
        f"SnapStart (catalog `snapstart=True`): median of {cold['samples']} fresh interpreters per function; "
        "priming runs when a version is published, then a user waits for the restore + the after-restore "
        f"hooks + the first call; {how}\n\n" + table(headers, rows, "llrrrrrrrlr")
    )


def breakdown_section(cold: dict[str, Any]) -> str:
    rows = []
    for name, entry in cold["functions"].items():
        timing = entry.get("importtime")
        if not timing:
            continue
        for phase in ("import", "call"):
            packages = timing.get(phase, {}).get("packages_ms", {})
            listed = ", ".join(f"{k} {v:.0f}" for k, v in list(packages.items())[:5])
            rows.append([name, phase, timing.get(phase, {}).get("total_ms"), listed])
    if not rows:
        return ""
    return (
        "Where cold init goes: import time per top-level package, ms (one `python -X importtime` sample; "
        "its own overhead inflates totals)\n\n"
        + table(["function", "phase", "imports ms", "largest packages"], rows, "llrl")
    )


def warm_section(warm: dict[str, Any]) -> str:
    rows = []
    for name, op in warm["operations"].items():
        if "skipped" in op:
            rows.append([name, op["skipped"], None, None, None, None])
            continue
        statuses = ",".join(f"{k}x{v}" for k, v in sorted(op["statuses"].items()))
        rows.append(
            [
                name,
                statuses,
                op["latency_ms"]["p50"],
                op["latency_ms"]["p99"],
                op["own_ms"]["p50"],
                op["own_ms"]["p99"],
            ]
        )
    return (
        f"Warm latency in-process: {warm['calls']} calls per operation (own = minus time waiting on moto "
        "and the Stripe emulator)\n\n"
        + table(["operation", "statuses", "p50 ms", "p99 ms", "own p50", "own p99"], rows, "llrrrr")
    )


def requests_section(warm: dict[str, Any]) -> str:
    rows = []
    for name, op in warm["operations"].items():
        if "skipped" in op or not op.get("requests"):
            continue
        totals = op["requests"]["totals_per_call"]
        minimum = design.minimum_by_service(name)

        def pair(service: str, totals: dict[str, Any] = totals, minimum: dict[str, int] = minimum) -> str:
            measured = totals.get(f"{service}.requests", 0)
            wanted = minimum.get(service)
            text = f"{measured:g}"
            return text if wanted is None else f"{text} ({wanted})"

        first_extra = [r for r in op["first_call"]["requests"] if r.startswith("secretsmanager")]
        rows.append(
            [
                name,
                pair("dynamodb"),
                pair("stripe"),
                pair("events"),
                totals.get("dynamodb.read_units", 0),
                f"{totals.get('dynamodb.write_units', 0):g} + "
                f"{totals.get('dynamodb.index_write_units', 0):g}",
                f"{totals.get('dynamodb.rereads', 0):g} / {totals.get('dynamodb.reads_of_own_writes', 0):g}",
                len(first_extra),
            ]
        )
    headers = [
        "operation",
        "DynamoDB (min)",
        "Stripe (min)",
        "PutEvents (min)",
        "RRU",
        "WRU + index",
        "re-reads / own",
        "secrets 1st",
    ]
    return (
        "Requests per warm call, measured (design minimum); request units by DynamoDB's size rules; "
        "re-reads: "
        "reads of an item already read / written in the same call; secrets 1st: Secrets Manager reads on a "
        "container's first call only\n\n" + table(headers, rows, "lrrrrrrr")
    )


def size_section(size: dict[str, Any]) -> str:
    rows = []
    for name, row in size["functions"].items():
        rows.append(
            [
                name,
                row["code_kb"],
                row["as_built_mb"],
                row.get("with_pyc_mb", row.get("with_pyc_313_mb")),
                row["runtime_boto3_mb"],
                row.get("imported_only_mb"),
                row.get("imported_only_pyc_mb"),
                row.get("imported_pyc_runtime_boto3_mb"),
                "ok" if row["within_budget"] else "OVER",
            ]
        )
    headers = [
        "function",
        "code KB",
        "as built MB",
        "+ .pyc",
        "- runtime SDK",
        "imported only",
        "imported + .pyc",
        "imp. + .pyc - SDK",
        f"deployed <= {size['budget_mb']:g}",
    ]
    largest = ", ".join(
        f"{k} {v['files']:.1f} (+{v.get('pyc', v.get('pyc_313', 0)):.1f})"
        for k, v in list(size["deps_largest_mb"].items())[:8]
    )
    pyc = size.get("deps_pyc_mb", size.get("deps_pyc_313_mb"))
    # Results files from before the runtime's bytecode was measured hold 3.13's.
    version = size.get("pyc_python") or "3.13"
    return (
        f"Deployment size, unzipped, MB (Lambda's limit {size['limit_mb']:g} MB): function code + core layer "
        f"{size['core_layer_mb']:.2f} MB + deps layer {size['deps_layer_mb']:.1f} MB"
        + (f" (+{pyc:.1f} MB as CPython {version} bytecode)" if pyc else "")
        + f"; layer built by {size['method']}. `- runtime SDK`: without boto3, botocore and s3transfer, "
        "which the Lambda runtime provides\n\n"
        + table(headers, rows, "lrrrrrrrl")
        + f"\n\nLargest in the deps layer, MB (+ its {version} bytecode): {largest}"
    )


def budgets_section(results: dict[str, Any]) -> str:
    """The budgets, each with the functions or operations that miss it."""
    rows: list[list[Any]] = []
    cold = results.get("cold")
    if cold:
        budgets = {"API functions": cold["budget"]["api"], "the webhook": cold["budget"]["webhook"]}
        if "on_demand" in cold["budget"]:
            budgets["on-demand functions"] = cold["budget"]["on_demand"]
        judged = dict.fromkeys(budgets, 0)
        misses: dict[str, list[str]] = {label: [] for label in budgets}
        for name, entry in cold["functions"].items():
            judged_on = _budget_of(cold, name, entry)
            if judged_on is None:
                continue
            label = judged_on[0]
            snapstart = entry.get("snapstart") and "snapstart" in entry["modes"]
            stats = entry["modes"].get("snapstart" if snapstart else "isolated") or {}
            ratio = stats.get("ratio_to_reference")
            judged[label] += 1
            if snapstart and not stats.get("restore_measured"):
                misses[label].append(f"{name} (restore not measured)")
            elif ratio is None or ratio > budgets[label]:
                misses[label].append(f"{name} ({ratio})")
        for label, budget in budgets.items():
            rows.append(
                [f"cold start of {label} <= {budget} x reference", judged[label], _misses(misses[label])]
            )
    if "warm" in results:
        ops = results["warm"]["operations"]
        rereads = [
            op
            for op, r in ops.items()
            if r.get("requests", {}).get("totals_per_call", {}).get("dynamodb.rereads")
        ]
        rows.append(["nothing read twice in one call (DynamoDB re-reads = 0)", len(ops), _misses(rereads)])
        beyond = [
            op
            for op, r in ops.items()
            if r.get("requests") and r["requests"]["per_call"] != design.minimum_requests(op)
        ]
        rows.append(["requests per call = the design's minimum (bench/design.py)", len(ops), _misses(beyond)])
    cost = results.get("cost")
    if cost and cost.get("assumptions", {}).get("budget_usd") is not None:
        budget = float(cost["assumptions"]["budget_usd"])
        label = (
            f"cost <= {budget:g} USD per {cost['assumptions']['payments']:,} payments (production estimate)"
        )
        over = [] if cost["total_usd"] <= budget else [f"{cost['total_usd']:,.2f} USD"]
        rows.append([label, 1, _misses(over)])
    if results.get("heat", {}).get("keys"):
        from bench.heat import over_budget

        heat = results["heat"]
        label = (
            f"every partition key <= {heat['budget_wcu_per_key']:,.0f} WCU/s at "
            f"{heat['payments_per_second']:,.0f} payments/s"
        )
        rows.append([label, len(heat["keys"]), _misses(over_budget(heat))])
    if "size" in results:
        size = results["size"]
        over = [name for name, row in size["functions"].items() if not row["within_budget"]]
        local = "local .venv" in size["method"]
        label = f"deployment size <= {size['budget_mb']:g} MB unzipped, with its bytecode" + (
            " (this .venv, not the layer)" if local else ""
        )
        rows.append([label, len(size["functions"]), _misses(over)])
    if not rows:
        return ""
    return (
        "Budgets (as deployed: a SnapStart function's cold start is its restore + after-restore hooks + "
        "first call, the restore measured with CRIU; the others' is import + first call)\n\n"
        + table(["budget", "judged", "result"], rows, "lrl")
    )


def _misses(names: list[str]) -> str:
    return "met" if not names else "MISSED: " + ", ".join(names)


def throughput_section(throughput: dict[str, Any]) -> str:
    rows = []
    for run in throughput["runs"]:
        if "error" in run:
            rows.append([run["op"], run["clients"], None, None, None, str(run["error"])])
            continue
        bad = {k: v for k, v in run["statuses"].items() if not k.startswith("2")}
        rows.append(
            [
                run["op"],
                run["clients"],
                run["rps"],
                run["p50_ms"],
                run["p99_ms"],
                ",".join(f"{k}x{v}" for k, v in bad.items()) or "none",
            ]
        )
    notes = ("; " + "; ".join(throughput["notes"])) if throughput.get("notes") else ""
    return (
        f"Local stack throughput over loopback: {throughput['server']}, "
        f"{throughput['duration_s']:g} s per run "
        f"after warm-up, {throughput['cpus']} CPUs{notes}\n\n"
        + table(["operation", "clients", "req/s", "p50 ms", "p99 ms", "non-2xx"], rows, "lrrrrl")
    )


def deps_section(deps: dict[str, Any]) -> str:
    rows = [
        [name, row["ms"]["p50"], row["ms"]["p99"] if row["ms"]["n"] > 1 else None]
        for name, row in deps["rows"].items()
    ]
    return (
        f"What each dependency costs at cold start (median of {deps['samples']} fresh interpreters; one "
        "statement timed after an untimed setup)\n\n" + table(["statement", "p50 ms", "max ms"], rows, "lrr")
    )


def cost_section(cost: dict[str, Any]) -> str:
    rows = [[name, usd] for name, usd in cost["usd"].items()]
    rows.append(["Total (production duration estimate)", cost["total_usd"]])
    rows.append(["Total (measured warm duration)", cost["total_with_measured_duration_usd"]])
    q = cost["quantities"]
    assume = cost["assumptions"]
    return (
        f"Cost per {assume['payments']:,} payments with {assume['refund_fraction']:.0%} refunded, USD "
        f"({cost['region']}, prices as of {cost['prices_as_of']}, bench/prices.json)\n\n"
        + table(["item", "USD"], [[r[0], f"{r[1]:,.2f}"] for r in rows], "lr")
        + f"\n\nQuantities: {q['api_requests']:,} API requests, "
        f"{q['lambda_invocations']:,} Lambda invocations, {q['read_request_units']:,} RRU, "
        f"{q['write_request_units']:,} WRU, {q['eventbridge_events']:,} events, "
        f"{q['secrets_manager_calls']:,} Secrets Manager calls. "
        f"Stripe webhooks: {cost['webhook_events']} event types "
        f"(every event Stripe emits: {cost['total_if_all_stripe_events_usd']:,.2f} USD)."
        + (("\nNot counted: " + "; ".join(cost["notes"])) if cost.get("notes") else "")
        + _alternatives(cost)
    )


def _alternatives(cost: dict[str, Any]) -> str:
    rows = [
        [a["alternative"], f"{a['usd_delta']:+,.2f}", f"{a['total_usd']:,.2f}"]
        for a in cost.get("alternatives", [])
    ]
    if not rows:
        return ""
    return (
        "\n\nDesigns not taken, priced from the same measurements (bench/cost.py, alternatives)\n\n"
        + table(["alternative", "USD", "total USD"], rows, "lrr")
    )


def heat_section(heat: dict[str, Any]) -> str:
    """Every shared key family, and each table's and index's hottest per-entity key."""
    rows = []
    hottest_entity: dict[str, dict[str, Any]] = {}
    for key in heat["keys"]:
        if key["kind"] == "shared":
            rows.append(key)
        else:
            best = hottest_entity.get(key["target"])
            if best is None or key["hottest_key_wcu_per_s"] > best["hottest_key_wcu_per_s"]:
                hottest_entity[key["target"]] = key
    rows += hottest_entity.values()
    rows.sort(key=lambda k: (k["target"], k["kind"], -k["hottest_key_wcu_per_s"]))
    budget = heat["budget_wcu_per_key"]
    cells = [
        [
            k["target"],
            k["pattern"],
            k["kind"],
            k["shards"],
            f"{k['wcu_per_s']:,.0f}",
            f"{k['hottest_key_wcu_per_s']:,.1f}",
            "ok" if k["within_budget"] else "OVER",
            ", ".join(k["written_by"]),
        ]
        for k in rows
    ]
    headers = [
        "table/index",
        "partition key",
        "kind",
        "shards",
        "WCU/s",
        "hottest key WCU/s",
        f"<= {budget:,.0f}",
    ]
    headers.append("written by")
    return (
        f"Partition heat at {heat['payments_per_second']:,.0f} payments/s (with their captures, refunds, "
        "webhooks, subscribers and schedules; keys as the measured calls wrote them): write units a second "
        "on each key family and on its hottest key (shared: the family over its shards; per entity: one "
        "payment's writes, one payment a second per entity), budget per key "
        f"{budget:,.0f}\n\n"
        + table(headers, cells, "lllrrrll")
        + (("\nNot counted: " + "; ".join(heat["notes"])) if heat.get("notes") else "")
    )


def render(results: dict[str, Any]) -> str:
    sections = []
    if "cold" in results:
        cold = results["cold"]
        sections += [cold_section(cold), snapstart_section(cold), breakdown_section(cold)]
    if "deps" in results:
        sections.append(deps_section(results["deps"]))
    if "warm" in results:
        sections += [warm_section(results["warm"]), requests_section(results["warm"])]
    if "size" in results:
        sections.append(size_section(results["size"]))
    if "throughput" in results:
        sections.append(throughput_section(results["throughput"]))
    if "cost" in results:
        sections.append(cost_section(results["cost"]))
    if "heat" in results:
        sections.append(heat_section(results["heat"]))
    sections.append(budgets_section(results))
    return "\n\n".join(s for s in sections if s) + "\n"
