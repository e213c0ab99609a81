"""`python -m bench`: every measurement in one run, the tables on stdout, the numbers in bench-results/.

Defaults are `make bench`'s counts; the smoke test passes tiny ones. Sections can be left out
(`--skip throughput,size`) or run alone (`--only cold`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, log
from infra import catalog

SECTIONS = ("cold", "deps", "warm", "size", "throughput", "cost", "heat")
COLD_MODES = ("isolated", "snapstart", "inprocess")
RESULTS = ROOT / "bench-results"
CHARTS = ROOT / "docs" / "charts"


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--functions", type=_csv, default=None, help="comma-separated subset (default: the catalog)"
    )
    parser.add_argument(
        "--cold-samples", type=int, default=15, help="fresh interpreters per function (default 15)"
    )
    parser.add_argument(
        "--cold-modes",
        type=_csv,
        default=list(COLD_MODES),
        help="isolated,snapstart,inprocess (see bench/cold.py)",
    )
    parser.add_argument(
        "--cross-check-samples",
        type=int,
        default=5,
        help="samples of the inprocess cross-check (default 5; isolated and snapstart use --cold-samples)",
    )
    parser.add_argument(
        "--tracing", choices=("on", "off"), default="on", help="X-Ray active tracing as deployed (on)"
    )
    parser.add_argument(
        "--bytecode",
        choices=("cached", "source"),
        default="cached",
        help="source: no .pyc outside the standard library, as in a layer built without bytecode",
    )
    parser.add_argument("--no-importtime", action="store_true", help="skip the -X importtime breakdown")
    parser.add_argument(
        "--cold-discard", type=int, default=1, help="rounds run first and thrown away (bytecode, page cache)"
    )
    parser.add_argument("--dep-samples", type=int, default=7, help="fresh interpreters per dependency row")
    parser.add_argument("--dep-rows", type=int, default=None, help="only the first N dependency rows")
    parser.add_argument(
        "--warm-calls", type=int, default=200, help="timed warm calls per operation (default 200)"
    )
    parser.add_argument("--detailed-calls", type=int, default=5, help="extra calls with request accounting")
    parser.add_argument(
        "--size-method",
        choices=("pip", "local"),
        default="pip",
        help="pip: install the arm64 layer from PyPI (cached); local: measure this .venv (no network)",
    )
    parser.add_argument(
        "--duration", type=float, default=20.0, help="seconds per throughput run (default 20)"
    )
    parser.add_argument("--clients", type=lambda s: [int(x) for x in _csv(s)], default=[8, 32])
    parser.add_argument("--throughput-ops", type=_csv, default=["get_payment", "process_payment"])
    parser.add_argument(
        "--server", choices=("auto", "stack", "mini"), default="auto", help="throughput target"
    )
    parser.add_argument(
        "--stack-concurrency", type=int, default=None, help="LOCAL_FUNCTION_CONCURRENCY for the stack"
    )
    parser.add_argument("--skip", type=_csv, default=[], help=f"sections to leave out: {','.join(SECTIONS)}")
    parser.add_argument("--only", type=_csv, default=[], help="run just these sections")
    parser.add_argument("--output", type=Path, default=RESULTS / "bench.json")
    parser.add_argument("--markdown", type=Path, default=RESULTS / "bench.md", help="the tables as Markdown")
    parser.add_argument(
        "--charts", type=Path, default=CHARTS, help="where the SVG charts go (docs/performance.md shows them)"
    )
    parser.add_argument(
        "--rerender",
        type=Path,
        default=None,
        help="measure nothing: reprint the tables of a results file, the cost with today's prices.json",
    )
    args = parser.parse_args(argv)
    for what, given, known in (
        ("section", args.skip + args.only, SECTIONS),
        ("cold mode", args.cold_modes, COLD_MODES),
        ("function", args.functions or [], catalog.FUNCTIONS_BY_NAME),
    ):
        if unknown := sorted(set(given) - set(known)):
            parser.error(f"unknown {what}(s): {', '.join(unknown)}")
    return args


def _code_version() -> dict[str, Any]:
    """The commit measured, and whether the working tree differed from it (read-only git calls)."""
    import subprocess

    def git(*arguments: str) -> str:
        done = subprocess.run(  # noqa: S603 - fixed arguments
            ["git", *arguments],  # noqa: S607 - the developer's git, read-only subcommands
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "modified_files": len(git("status", "--porcelain").splitlines()),
    }


def write(results: dict[str, Any], output: Path, markdown: Path, charts_dir: Path) -> None:
    """The numbers to `output`, the tables to `markdown` and stdout, the charts to `charts_dir`."""
    from bench import charts, report

    text = report.render(results)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    markdown.parent.mkdir(parents=True, exist_ok=True)
    markdown.write_text(text)
    charts.write(results, charts_dir)
    print(text)


def add_cost(results: dict[str, Any]) -> None:
    """The cost model over the warm measurements, with today's bench/prices.json."""
    from bench import cost

    results["cost"] = cost.model(results["warm"], results.get("cold"), cost.load_prices())


def add_heat(results: dict[str, Any]) -> None:
    """The partition-heat model over the warm measurements (the keys the calls wrote)."""
    from bench import cost, heat

    results["heat"] = heat.model(results["warm"], cost.load_prices())


def main() -> int:
    args = parse(sys.argv[1:])
    if args.rerender:
        earlier = json.loads(args.rerender.read_text())
        if "warm" in earlier:
            add_cost(earlier)
            add_heat(earlier)
        write(earlier, args.rerender, args.markdown, args.charts)
        return 0
    wanted = [s for s in SECTIONS if (not args.only or s in args.only) and s not in args.skip]
    functions = [fn for fn in catalog.FUNCTIONS if not args.functions or fn.name in args.functions]
    tracing = args.tracing == "on"
    started = time.time()
    results: dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
        },
        "arguments": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "code": _code_version(),
    }
    if "cold" in wanted:
        from bench import cold

        log(f"cold init: {len(functions)} functions + reference, {args.cold_samples} samples each")
        results["cold"] = cold.measure(
            functions,
            samples=args.cold_samples,
            modes=args.cold_modes,
            inprocess_samples=args.cross_check_samples,
            tracing=tracing,
            bytecode=args.bytecode,
            importtime=not args.no_importtime,
            discard=args.cold_discard,
        )
    if "deps" in wanted:
        from bench import deps

        log("dependency costs")
        results["deps"] = deps.measure(args.dep_samples, rows=args.dep_rows)
    if "warm" in wanted:
        from bench import warm

        log(f"warm: {args.warm_calls} calls per operation")
        results["warm"] = warm.measure(
            functions, calls=args.warm_calls, detailed=args.detailed_calls, tracing=tracing
        )
    if "size" in wanted:
        from bench import size

        imported = None
        if "cold" in results:
            imported = {
                name: set(entry["importtime"]["top_level_modules"])
                for name, entry in results["cold"]["functions"].items()
                if entry.get("importtime")
            }
        log("deployment size")
        results["size"] = size.measure(functions, imported, method=args.size_method)
    if "throughput" in wanted:
        from bench import throughput

        results["throughput"] = throughput.measure(
            duration=args.duration,
            clients=args.clients,
            operations=args.throughput_ops,
            mode=args.server,
            concurrency=args.stack_concurrency,
        )
    if "cost" in wanted and "warm" in results:
        add_cost(results)
    if "heat" in wanted and "warm" in results:
        add_heat(results)
    results["elapsed_s"] = round(time.time() - started, 1)
    write(results, args.output, args.markdown, args.charts)
    log(f"done in {results['elapsed_s']:.0f} s: {args.output} and {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
