"""The bench results as SVG charts for docs/performance.md: plain SVG written by hand (no plotting
library), fixed sizes and number formats, so the same results always give the same bytes.

Each chart reads its part of the results by key and is left out when that part is missing (a run with
`--only cold` redraws the cold-start chart and leaves the others as they were).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from bench.common import REFERENCE
from bench.cost import MEASURED_DURATION

WIDTH = 760
LABEL_WIDTH = 200  # the row labels' column
VALUE_WIDTH = 110  # room right of the longest bar for its value
ROW_HEIGHT = 22
TOP = 58  # title and legend
BOTTOM = 34  # the axis' numbers and its unit
SERIES_COLORS = ("#3b6ea8", "#e08a2e", "#5a9e4b")
MARKER_COLOR = "#b03030"
# The services a cost line item is billed by (cost.py names each line after its service).
SERVICES = ("API Gateway", "WAF", "Lambda", "DynamoDB", "EventBridge", "Secrets Manager", "X-Ray")


@dataclass(frozen=True)
class Bar:
    value: float
    text: str  # what is printed after the bar


@dataclass(frozen=True)
class Row:
    label: str
    bars: tuple[Bar | None, ...]  # one per series; None: not measured


@dataclass(frozen=True)
class Marker:
    """A dashed vertical line across the plot, e.g. the reference handler's cold start."""

    value: float
    label: str


@dataclass(frozen=True)
class Chart:
    name: str  # the file's stem
    title: str
    unit: str  # the axis' unit
    series: tuple[str, ...]
    rows: tuple[Row, ...]
    markers: tuple[Marker, ...] = field(default=())
    label_width: int = LABEL_WIDTH  # wider for long labels (partition key patterns)


def _number(value: float) -> str:
    """Fixed formats, as bench/report.py prints them."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _nice_ceiling(value: float) -> float:
    """The axis' end: a round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) >= `value`."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if step * power >= value)


def _attrs(**attributes: str | float) -> str:
    parts = []
    for key, value in attributes.items():
        text = f"{value:.1f}" if isinstance(value, float) else str(value)
        parts.append(f"{key.rstrip('_').replace('_', '-')}={quoteattr(text)}")
    return " ".join(parts)


def _text(x: float, y: float, content: str, **attributes: str | float) -> str:
    return f"<text {_attrs(x=x, y=y, **attributes)}>{escape(content)}</text>"


def svg(chart: Chart) -> str:
    """A horizontal bar chart: one row per label, one bar per series, the markers dashed across."""
    per_row = max(1, len(chart.series))
    row_height = ROW_HEIGHT if per_row == 1 else 12 * per_row + 8
    height = TOP + row_height * len(chart.rows) + BOTTOM
    values = [b.value for r in chart.rows for b in r.bars if b] + [m.value for m in chart.markers]
    top = _nice_ceiling(max(values, default=0.0))
    left = chart.label_width
    plot_width = WIDTH - left - VALUE_WIDTH

    def x_of(value: float) -> float:
        return left + plot_width * max(0.0, value) / top

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" {_attrs(width=WIDTH, height=height)} '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(chart.title)}</title>",
        f"<rect {_attrs(width=WIDTH, height=height, fill='#ffffff')}/>",
        _text(10, 20, chart.title, font_size=14, font_weight="bold"),
    ]
    legend_x = 10.0
    for index, name in enumerate(chart.series if len(chart.series) > 1 else ()):
        color = SERIES_COLORS[index % len(SERIES_COLORS)]
        out.append(f"<rect {_attrs(x=legend_x, y=32, width=12, height=12, fill=color)}/>")
        out.append(_text(legend_x + 16, 42, name))
        legend_x += 24 + 7 * len(name)
    plot_bottom = TOP + row_height * len(chart.rows)
    for step in range(5):
        value = top * step / 4
        x = x_of(value)
        out.append(f"<line {_attrs(x1=x, y1=TOP, x2=x, y2=plot_bottom, stroke='#dddddd')}/>")
        out.append(_text(x, plot_bottom + 14, _number(value), text_anchor="middle", fill="#555555"))
    out.append(_text(left + plot_width / 2, plot_bottom + 28, chart.unit, text_anchor="middle"))
    for index, row in enumerate(chart.rows):
        y = TOP + index * row_height
        out.append(_text(left - 6, y + row_height / 2 + 4, row.label, text_anchor="end"))
        bar_height = (row_height - 8) / per_row
        for series, bar in enumerate(row.bars):
            bar_y = y + 4 + series * bar_height
            if bar is None:
                out.append(_text(left + 4, bar_y + bar_height - 2, "not measured", fill="#888888"))
                continue
            color = SERIES_COLORS[series % len(SERIES_COLORS)]
            width = x_of(bar.value) - left
            out.append(
                f'<rect class="bar" data-series={quoteattr(chart.series[series])} '
                f"data-label={quoteattr(row.label)} "
                f"{_attrs(x=float(left), y=bar_y, width=width, height=bar_height - 1, fill=color)}/>"
            )
            out.append(_text(left + width + 4, bar_y + bar_height - 2, bar.text, font_size=11))
    for marker in chart.markers:
        x = x_of(marker.value)
        out.append(
            f'<line class="marker" {_attrs(x1=x, y1=TOP - 8, x2=x, y2=plot_bottom)} '
            f'stroke="{MARKER_COLOR}" stroke-dasharray="4 3"/>'
        )
        out.append(_text(x + 3, TOP - 10, marker.label, fill=MARKER_COLOR, font_size=11))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def cold_chart(cold: dict[str, Any]) -> Chart | None:
    """Each function's cold start next to the reference handler's: as measured on demand (import +
    first call) and, for SnapStart functions with a measured restore, what a user waits."""
    functions = cold.get("functions") or {}
    reference = _finite(
        (functions.get(REFERENCE, {}).get("modes", {}).get("isolated") or {}).get("total_ms", {}).get("p50")
    )
    rows = []
    snapstart_seen = False
    for name, entry in functions.items():
        if name == REFERENCE:
            continue
        modes = entry.get("modes") or {}
        on_demand = _finite((modes.get("isolated") or {}).get("total_ms", {}).get("p50"))
        snapstart = modes.get("snapstart") or {}
        restored = (
            _finite(snapstart.get("user_waits_ms", {}).get("p50"))
            if snapstart.get("restore_measured")
            else None
        )
        snapstart_seen = snapstart_seen or restored is not None
        if on_demand is None and restored is None:
            continue
        rows.append((name, _cold_bar(on_demand, reference), _cold_bar(restored, reference)))
    if not rows:
        return None
    series: tuple[str, ...] = ("on demand: import + 1st call", "SnapStart: restore + 1st call")
    chart_rows = tuple(Row(n, (a, b) if snapstart_seen else (a,)) for n, a, b in rows)
    markers = (Marker(reference, f"reference {_number(reference)} ms"),) if reference else ()
    return Chart(
        name="bench-cold-start",
        title=f"Cold start per function, median of {cold.get('samples', '?')} (ms; x the reference)",
        unit="ms",
        series=series if snapstart_seen else series[:1],
        rows=chart_rows,
        markers=markers,
    )


def _cold_bar(value: float | None, reference: float | None) -> Bar | None:
    if value is None:
        return None
    ratio = f" ({value / reference:.2f}x)" if reference else ""
    return Bar(value, f"{_number(value)}{ratio}")


def warm_chart(warm: dict[str, Any]) -> Chart | None:
    rows = []
    for name, op in (warm.get("operations") or {}).items():
        latency = op.get("latency_ms") or {}
        p50, p99 = _finite(latency.get("p50")), _finite(latency.get("p99"))
        if p50 is None or p99 is None:
            continue
        rows.append(Row(name, (Bar(p50, _number(p50)), Bar(p99, _number(p99)))))
    if not rows:
        return None
    return Chart(
        name="bench-warm-latency",
        title=f"Warm latency in-process, {warm.get('calls', '?')} calls per operation (ms)",
        unit="ms",
        series=("p50", "p99"),
        rows=tuple(rows),
    )


def service_of(item: str) -> str:
    return next((s for s in SERVICES if item.startswith(s)), item)


def cost_chart(cost: dict[str, Any]) -> Chart | None:
    """The total's line items (production duration estimate) summed by the service that bills them."""
    by_service: dict[str, float] = {}
    for item, usd in (cost.get("usd") or {}).items():
        value = _finite(usd)
        if value is None or item == MEASURED_DURATION:
            continue
        by_service[service_of(item)] = by_service.get(service_of(item), 0.0) + value
    if not by_service:
        return None
    ranked = sorted(by_service.items(), key=lambda pair: (-pair[1], pair[0]))
    payments = (cost.get("assumptions") or {}).get("payments")
    per = f"{payments:,}" if isinstance(payments, int) else "a million"
    total = _finite(cost.get("total_usd"))
    return Chart(
        name="bench-cost",
        title=f"Cost per {per} payments by service, USD"
        + (f" (total {total:,.2f}, {cost.get('region', '')})" if total is not None else ""),
        unit="USD",
        series=("USD",),
        rows=tuple(Row(service, (Bar(usd, f"{usd:,.2f}"),)) for service, usd in ranked),
    )


def heat_chart(heat: dict[str, Any]) -> Chart | None:
    """The hottest partition key of each table and index at the modelled rate (bench/heat.py), against
    the budget of one key."""
    hottest = heat.get("hottest") or {}
    rows = tuple(
        Row(f"{target} {key['pattern']}", (Bar(value, _number(value)),))
        for target, key in sorted(hottest.items(), key=lambda item: -item[1]["hottest_key_wcu_per_s"])
        if (value := _finite(key.get("hottest_key_wcu_per_s"))) is not None
    )
    if not rows:
        return None
    budget = _finite(heat.get("budget_wcu_per_key"))
    rate = _finite(heat.get("payments_per_second")) or 0
    return Chart(
        name="bench-partition-heat",
        title=f"Hottest partition key per table and index at {rate:,.0f} payments/s",
        unit="write units per second",
        series=("hottest key",),
        rows=rows,
        markers=(Marker(budget, f"budget {_number(budget)} WCU/s"),) if budget else (),
        label_width=330,
    )


CHARTS: tuple[tuple[str, Callable[[dict[str, Any]], Chart | None]], ...] = (
    ("cold", cold_chart),
    ("warm", warm_chart),
    ("cost", cost_chart),
    ("heat", heat_chart),
)


def charts(results: dict[str, Any]) -> list[Chart]:
    drawn = []
    for key, draw in CHARTS:
        part = results.get(key)
        if isinstance(part, dict) and (chart := draw(part)) is not None:
            drawn.append(chart)
    return drawn


def write(results: dict[str, Any], directory: Path) -> list[Path]:
    """Each chart the results hold, as `<directory>/<name>.svg`; the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for chart in charts(results):
        path = directory / f"{chart.name}.svg"
        path.write_text(svg(chart))
        written.append(path)
    return written
