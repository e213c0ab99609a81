"""Cold init: import + first invocation of every function, each sample in a fresh interpreter.

Two ways to stand in for AWS, both against the Stripe emulator running in this (parent) process:

- "isolated" (the budgeted numbers): the child imports nothing but the standard library before its
  timers; DynamoDB, EventBridge and Secrets Manager are moto's server on 127.0.0.1, reached through
  AWS_ENDPOINT_URL. Whatever the handler imports (boto3, botocore, requests...) is paid inside the
  measurement, as in a Lambda sandbox. Peak memory comes from these samples.
- "inprocess": moto is imported and started inside the child before the timers, as the integration
  tests do. moto imports boto3, botocore and requests, so those costs disappear from both our functions
  and the reference; the ratio is reported as a cross-check (fewer samples), not as the budget.

- "snapstart" (functions with `snapstart=True` in the catalog): as isolated, with a stand-in for Lambda's
  `snapshot_restore_py`, so the handler's before-snapshot hooks (priming) run after the import and its
  after-restore hooks before the first call. What a user waits for is the restore plus the
  after-restore hooks plus that first call. With CRIU at hand (bench/restore.py) each sample is
  checkpointed after priming and restored, and the restore is timed; otherwise it is not measured.

Samples are interleaved (one of each target per round) so that drift in machine load hits all targets
alike, after one discarded round that also warms the bytecode caches.
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import common, restore
from bench.common import REFERENCE, ROOT, STRIPE_KEY, WEBHOOK_SECRET, log, summarize
from bench.stubs import AwsServer, start_emulator
from infra import catalog
from infra.local.resources import function_environment

SAMPLE_TIMEOUT_S = 120
REFERENCE_MODULE = "bench.reference_handler"
REFERENCE_MEMORY_MB = 512


@dataclass
class Target:
    name: str
    module: str
    memory_mb: int
    kind: str
    event_source: str
    fn: catalog.Function | None = None
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    importtime: dict[str, Any] | None = None


def plan(functions: list[catalog.Function]) -> tuple[list[Target], dict[str, str]]:
    """The targets to sample (the reference first) and, for the others, why they are skipped."""
    targets = [Target(REFERENCE, REFERENCE_MODULE, REFERENCE_MEMORY_MB, "reference", "get_payment sample")]
    skipped: dict[str, str] = {}
    for fn in functions:
        event, source = common.first_event(fn)
        if event is None:
            skipped[fn.name] = source
            continue
        targets.append(Target(fn.name, f"functions.{fn.name}.app", fn.memory_mb, fn.kind, source, fn))
    return targets, skipped


def _event_for(target: Target) -> dict[str, Any]:
    if target.fn is None:
        sample = common.api_sample("get_payment")
        assert sample is not None
        return sample
    event, _ = common.first_event(target.fn)  # built per sample: a webhook signature is time-bound
    assert event is not None
    return event


def second_event(target: Target, first: dict[str, Any]) -> dict[str, Any]:
    """The first event made new: another Idempotency-Key and order, another Stripe or bus event id."""
    if target.fn is not None and target.fn.name == "stripe_webhook":
        stripe_event: dict[str, Any] = json.loads(first["body"])
        stripe_event["id"] = f"{stripe_event.get('id', 'evt_bench')}_again"
        return common.webhook_event(stripe_event)
    event: dict[str, Any] = json.loads(json.dumps(first))
    if "httpMethod" not in event:
        event["id"] = f"{event.get('id', 'bench')}-again"
        return event
    for field_name in ("headers", "multiValueHeaders"):
        headers = event.get(field_name) or {}
        for key in list(headers):
            if key.lower() == "idempotency-key":
                headers[key] = ["bench-second"] if field_name == "multiValueHeaders" else "bench-second"
    if event.get("body"):
        try:
            body = json.loads(event["body"])
        except ValueError:
            return event
        if isinstance(body, dict) and "order_id" in body:
            body["order_id"] = f"{body['order_id']}-again"
            event["body"] = json.dumps(body)
    return event


def _environment(target: Target, mode: str, session: Session) -> dict[str, str]:
    names = function_environment(target.fn) if target.fn else {"PAYMENTS_TABLE": "payments"}
    extra = {
        **common.lambda_like(target.name, target.memory_mb, session.tracing),
        **names,
        "STRIPE_API_BASE": session.emulator.url,
        **session.code.environment(),
    }
    if mode != "inprocess":
        extra["AWS_ENDPOINT_URL"] = session.aws.url
    return common.child_environment(extra)


class Bytecode:
    """`source` mode: only the standard library has bytecode; everything else compiles on import, which is
    what happens in Lambda when a layer ships no valid .pyc for the runtime's Python (read-only /opt)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.prefix = common.CACHE / "pycache-stdlib"

    def prepare(self) -> None:
        marker = self.prefix / ".complete"
        if self.mode != "source" or marker.exists():
            return
        stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
        log("compiling the standard library's bytecode into bench/.cache (once)")
        shutil.rmtree(self.prefix, ignore_errors=True)
        subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
            [
                sys.executable,
                "-m",
                "compileall",
                "-q",
                "-x",
                r"[/\\](test|tests|idlelib|tkinter)[/\\]",
                str(stdlib),
            ],
            env={**common.child_environment({}), "PYTHONPYCACHEPREFIX": str(self.prefix)},
            check=False,
            capture_output=True,
        )
        marker.write_text("ok\n")

    def environment(self) -> dict[str, str]:
        if self.mode != "source":
            return {}
        return {"PYTHONPYCACHEPREFIX": str(self.prefix), "PYTHONDONTWRITEBYTECODE": "1"}


def run_probe(
    spec: dict[str, Any], env: dict[str, str], importtime: bool = False
) -> tuple[dict[str, Any], str]:
    with tempfile.TemporaryDirectory(prefix="bench-probe-") as tmp:
        spec_path, result_path = Path(tmp) / "spec.json", Path(tmp) / "result.json"
        spec_path.write_text(json.dumps(spec))
        argv = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "bench.probe"]
        completed = subprocess.run(  # noqa: S603 - our own interpreter and module
            [*argv, str(spec_path), str(result_path)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,  # the function's logs and metrics (EMF) are not ours to print
            stderr=subprocess.PIPE,
            text=True,
            timeout=SAMPLE_TIMEOUT_S,
            check=False,
        )
        if completed.returncode != 0 or not result_path.exists():
            tail = "\n".join(completed.stderr.strip().splitlines()[-5:])
            return {"status": "crash", "error": f"exit {completed.returncode}: {tail}"}, completed.stderr
        return json.loads(result_path.read_text()), completed.stderr


_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def parse_importtime(stderr: str) -> dict[str, Any]:
    """`-X importtime` lines between the probe's markers: per phase, time per top-level package (self
    times summed) and the imports the phase triggered directly (cumulative)."""
    phases: dict[str, dict[str, Any]] = {}
    loaded: set[str] = set()
    phase = None
    for line in stderr.splitlines():
        if line.startswith("bench-probe: "):
            phase = line.split(": ", 1)[1]
            continue
        match = _IMPORT_LINE.match(line)
        if not match or phase not in ("import", "call"):
            continue
        self_us, cumulative_us, indent, name = match.groups()
        loaded.add(name.split(".")[0])
        entry = phases.setdefault(phase, {"packages": defaultdict(float), "roots": [], "total_ms": 0.0})
        entry["packages"][name.split(".")[0]] += int(self_us) / 1000
        entry["total_ms"] += int(self_us) / 1000
        if len(indent) <= 1:
            entry["roots"].append((name, int(cumulative_us) / 1000))
    result: dict[str, Any] = {"top_level_modules": sorted(loaded)}
    for name, entry in phases.items():
        packages = sorted(entry["packages"].items(), key=lambda kv: -kv[1])
        roots = sorted(entry["roots"], key=lambda kv: -kv[1])
        result[name] = {
            "total_ms": round(entry["total_ms"], 1),
            "packages_ms": {k: round(v, 1) for k, v in packages[:12]},
            "roots_ms": {k: round(v, 1) for k, v in roots[:10]},
        }
    return result


@dataclass
class Session:
    """What every sample of one run shares: the stand-ins, tracing and bytecode settings."""

    aws: AwsServer
    emulator: Any
    tracing: bool
    code: Bytecode
    criu: str | None = None  # checkpoints SnapStart samples to time their restore (bench/restore.py)


def measure(
    functions: list[catalog.Function],
    *,
    samples: int,
    modes: list[str],
    tracing: bool,
    bytecode: str,
    importtime: bool,
    discard: int,
    inprocess_samples: int,
) -> dict[str, Any]:
    targets, skipped = plan(functions)
    for name, why in skipped.items():
        log(f"cold: skipping {name}: {why}")
    code = Bytecode(bytecode)
    code.prepare()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    criu = restore.find_criu() if "snapstart" in modes else None
    if "snapstart" in modes:
        log(f"cold: SnapStart restores {'timed with ' + criu if criu else 'not measured (no CRIU as root)'}")
    session = Session(AwsServer().start(), start_emulator(), tracing, code, criu)
    try:
        for mode in modes:
            # The budgeted modes take the full count; "inprocess" is a cross-check.
            budgeted = mode in ("isolated", "snapstart")
            rounds = samples if budgeted else inprocess_samples
            sampled = [t for t in targets if mode != "snapstart" or (t.fn is not None and t.fn.snapstart)]
            for round_ in range(1 - discard, rounds + 1):  # rounds <= 0 warm the caches, discarded
                log(f"cold [{mode}] round {round_}/{rounds}")
                for target in sampled:
                    result, _ = _sample(session, target, mode)
                    if round_ > 0:
                        target.samples[mode].append(result)
                    elif result["status"] == "crash" or result.get("error"):
                        log(f"cold: {target.name}: {result.get('error')}")
        if importtime and "isolated" in modes:
            for target in targets:
                _, stderr = _sample(session, target, "isolated", importtime=True)
                target.importtime = parse_importtime(stderr)
    finally:
        session.aws.stop()
        session.emulator.stop()
    report = _report(targets, skipped, modes, tracing=tracing, bytecode=bytecode, samples=samples)
    report["cross_check_samples"] = inprocess_samples
    return report


def _sample(
    session: Session, target: Target, mode: str, importtime: bool = False
) -> tuple[dict[str, Any], str]:
    session.emulator.reset()
    if mode != "inprocess":
        session.aws.reset()
    event = _event_for(target)
    spec = {
        "kind": "cold",
        "module": target.module,
        "function": target.name,
        "memory_mb": target.memory_mb,
        "event": event,
        "second_event": second_event(target, event),
        "inprocess": mode == "inprocess",
        "snapstart": mode == "snapstart",
        "stripe_key": STRIPE_KEY,
        "webhook_secret": WEBHOOK_SECRET,
    }
    env = _environment(target, mode, session)
    if mode == "snapstart" and session.criu and not importtime:
        return restore.run_checkpointed(session.criu, spec, env), ""
    return run_probe(spec, env, importtime=importtime)


def _mode_stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One target's samples in one mode, summarized; a crashed sample counts only in `samples`."""
    ok = [r for r in rows if r["status"] != "crash"]

    def stats(key: str) -> dict[str, float]:
        return summarize([r[key] for r in ok if r.get(key) is not None])

    def total(*keys: str) -> dict[str, float]:
        return summarize([sum(r.get(key) or 0 for key in keys) for r in ok])

    return {
        "samples": len(rows),
        "ok": len(ok),
        "statuses": sorted({r["status"] for r in rows}),
        "errors": sorted({str(r["error"]) for r in rows if r.get("error")})[:3],
        "import_ms": stats("import_ms"),
        "call_ms": stats("call_ms"),
        "total_ms": total("import_ms", "call_ms"),
        "cpu_ms": stats("cpu_ms"),
        "second_ms": stats("second_ms"),
        "rss_peak_mb": stats("rss_peak_mb"),
        "prime_ms": stats("prime_ms"),
        "restore_hooks_ms": stats("restore_hooks_ms"),
        "after_restore_ms": total("restore_hooks_ms", "call_ms"),
        "restore_ms": stats("restore_ms"),
        "image_mb": stats("image_mb"),
        "restore_measured": bool(ok) and all("restore_ms" in r for r in ok),
        # What a user waits for after a SnapStart cold start: the restore (when measured), the
        # after-restore hooks and the first call.
        "user_waits_ms": total("restore_ms", "restore_hooks_ms", "call_ms"),
        "hooks": ok[0].get("hooks") if ok else None,
        "rss_before_mb": stats("rss_before_mb"),
        "modules_loaded": int(stats("modules_after_call")["p50"]) if ok else None,
        "modules_before": int(stats("modules_before")["p50"]) if ok else None,
    }


def _report(
    targets: list[Target],
    skipped: dict[str, str],
    modes: list[str],
    *,
    tracing: bool,
    bytecode: str,
    samples: int,
) -> dict[str, Any]:
    by_name: dict[str, Any] = {}
    for target in targets:
        entry: dict[str, Any] = {
            "kind": target.kind,
            "snapstart": bool(target.fn and target.fn.snapstart),
            "memory_mb": target.memory_mb,
            "first_event": target.event_source,
            "modes": {},
        }
        for mode in modes:
            if target.samples[mode]:
                entry["modes"][mode] = _mode_stats(target.samples[mode])
        if target.importtime is not None:
            entry["importtime"] = target.importtime
        by_name[target.name] = entry
    for mode in modes:
        # SnapStart's user-facing cold start is the restore, the after-restore hooks and the first call;
        # it is compared with the reference's ordinary cold start.
        base = "isolated" if mode == "snapstart" and "isolated" in modes else mode
        if base not in by_name[REFERENCE]["modes"]:
            continue
        reference = by_name[REFERENCE]["modes"][base]["total_ms"]["p50"]
        measure = "user_waits_ms" if mode == "snapstart" else "total_ms"
        for entry in by_name.values():
            stats = entry["modes"].get(mode)
            if stats is None:
                continue
            usable = stats["ok"] and not math.isnan(reference) and reference > 0
            stats["ratio_to_reference"] = round(stats[measure]["p50"] / reference, 3) if usable else None
            # The same ratio in CPU time (on-demand samples): the cross-check on a machine shared with
            # other work, where the wall times of one run can swing by half.
            reference_cpu = by_name[REFERENCE]["modes"][base].get("cpu_ms", {}).get("p50")
            cpu = stats.get("cpu_ms", {}).get("p50")
            cpu_usable = cpu is not None and reference_cpu and not math.isnan(cpu) and reference_cpu > 0
            stats["cpu_ratio_to_reference"] = round(cpu / reference_cpu, 3) if cpu_usable else None
    return {
        "samples": samples,
        "modes": modes,
        "tracing": tracing,
        "bytecode": bytecode,
        "functions": by_name,
        "skipped": skipped,
        # On-demand functions (no SnapStart: subscribers, schedules) are judged on import + first call.
        "budget": {"api": 0.5, "webhook": 0.4, "on_demand": 0.8},
    }
