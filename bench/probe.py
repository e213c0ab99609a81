"""One cold-start sample in a fresh interpreter: `python -m bench.probe <spec.json> <result.json>`.

Only the standard library is imported before the timers start, so whatever a handler imports is paid
inside the measurement, as in a Lambda sandbox. The spec says what to import and how to call it:

- kind "cold": import `module` (timer 1), call `module.handler(event, context)` once (timer 2), then
  once more with `second_event` (timer 3, after the peak memory is read); with "inprocess" set,
  moto's mock is started and the catalog's resources created first, untimed.
  With "snapstart" set, a stand-in for Lambda's `snapshot_restore_py` records the handler's hooks;
  the before-snapshot hooks run after the import (timed apart: Lambda runs them when it publishes a
  version), the after-restore hooks just before the first call (timed apart too). With "checkpoint"
  also set, the probe stops between the two for bench/restore.py to checkpoint and restore it.
- kind "snippet": exec `setup` untimed, then `stmt` timed (the per-dependency costs).

Markers on stderr split `python -X importtime` output into the import and the first call.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time
import uuid
from typing import Any


class Context:
    """The attributes Powertools reads from a Lambda context."""

    def __init__(self, name: str, memory_mb: int) -> None:
        self.function_name = name
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.function_version = "$LATEST"
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "bench"
        self._deadline = time.monotonic() + 30

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _rss_mb() -> float:
    """Peak resident memory of this interpreter. VmHWM belongs to the address space, which exec
    replaces; ru_maxrss would also count the parent's pages from before the fork."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _mark(name: str) -> None:
    print(f"bench-probe: {name}", file=sys.stderr, flush=True)


def _inprocess_aws(spec: dict[str, Any]) -> Any:
    """moto in this process, with the catalog's resources (the guidance's "in-process" variant)."""
    import boto3
    from moto import mock_aws

    from infra.local import resources

    mock = mock_aws()
    mock.start()
    resources.create_tables(boto3.client("dynamodb"))
    resources.create_bus(boto3.client("events"))
    resources.create_secrets(
        boto3.client("secretsmanager"),
        stripe_api_key=spec["stripe_key"],
        webhook_secret=spec["webhook_secret"],
    )
    return mock


class SnapStartRuntime:
    """Stands in for Lambda's `snapshot_restore_py` (present only in SnapStart sandboxes): keeps the
    hooks a handler registers, so the probe can run them where Lambda would."""

    def __init__(self) -> None:
        self.before: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []
        self.after: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []

    def install(self) -> None:
        import types

        module = types.ModuleType("snapshot_restore_py")

        def register_before_snapshot(hook: Any, *args: Any, **kwargs: Any) -> Any:
            self.before.append((hook, args, kwargs))
            return hook

        def register_after_restore(hook: Any, *args: Any, **kwargs: Any) -> Any:
            self.after.append((hook, args, kwargs))
            return hook

        module.register_before_snapshot = register_before_snapshot  # type: ignore[attr-defined]
        module.register_after_restore = register_after_restore  # type: ignore[attr-defined]
        sys.modules["snapshot_restore_py"] = module

    @staticmethod
    def run(hooks: list[tuple[Any, tuple[Any, ...], dict[str, Any]]]) -> float:
        started = time.perf_counter()
        for hook, args, kwargs in hooks:
            hook(*args, **kwargs)
        return (time.perf_counter() - started) * 1000


def _checkpoint_here(paths: dict[str, str]) -> float:
    """Say "primed", then wait: the harness checkpoints this process (which ends it) and restores the
    checkpoint; the restored copy finds the `go` file and carries on. Returns when it resumed (wall
    clock, which the harness compares with when it started the restore)."""
    reopen = _close_xray_socket()
    with open(paths["ready"], "w", encoding="ascii") as ready:
        ready.write("primed\n")
    while not os.path.exists(paths["go"]):
        time.sleep(0.0005)
    resumed = time.time()
    reopen()
    return resumed


def _close_xray_socket() -> Any:
    """CRIU 4.1 cannot checkpoint an internet socket on kernels that refuse it SO_PASSSEC (6.x). The
    one a primed function holds is the X-Ray SDK's UDP emitter (unconnected; it sends a datagram per
    segment): close it for the checkpoint and give the restored copy a new one (tens of microseconds)."""
    core = sys.modules.get("aws_xray_sdk.core")
    emitter = getattr(getattr(core, "xray_recorder", None), "emitter", None)
    if getattr(emitter, "_socket", None) is None:
        return lambda: None
    emitter._socket.close()  # type: ignore[union-attr]

    def reopen() -> None:
        import socket

        emitter._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # type: ignore[union-attr]
        emitter._socket.setblocking(False)  # type: ignore[union-attr]

    return reopen


def status_of(result: Any) -> str:
    """An API answer's status code; "ok" for any other result (subscribers, timers)."""
    if isinstance(result, dict) and "statusCode" in result:
        return str(result["statusCode"])
    return "ok"


def cold(spec: dict[str, Any]) -> dict[str, Any]:
    mock = _inprocess_aws(spec) if spec.get("inprocess") else None
    snapstart = SnapStartRuntime() if spec.get("snapstart") else None
    if snapstart is not None:
        snapstart.install()
    context = Context(spec["function"], int(spec["memory_mb"]))
    event = spec["event"]
    modules_before = len(sys.modules)
    rss_before = _rss_mb()
    _mark("import")
    started = time.perf_counter()
    cpu_started = time.process_time()
    module = importlib.import_module(spec["module"])
    imported = time.perf_counter()
    prime_ms = restore_ms = resumed_at = None
    if snapstart is not None:
        # Lambda: init, the before-snapshot hooks, snapshot ... restore, the after-restore hooks, invoke.
        prime_ms = snapstart.run(snapstart.before)
        if spec.get("checkpoint"):
            resumed_at = _checkpoint_here(spec["checkpoint"])
        restore_ms = snapstart.run(snapstart.after)
        imported = time.perf_counter()  # the first call starts after the restore
    _mark("call")
    error = None
    raised = None
    result: Any = None
    called = imported
    try:
        result = module.handler(event, context)
        called = time.perf_counter()
    except Exception as exc:  # a raising first call still completed its invocation: timed, and reported
        called = time.perf_counter()
        error = f"{type(exc).__name__}: {exc}"
        raised = type(exc).__name__
    cpu_used = time.process_time() - cpu_started
    _mark("done")
    rss_peak = _rss_mb()
    second_ms = None
    if spec.get("second_event") is not None:
        # The same work again in the now-warm interpreter: what a primed SnapStart restore is left with.
        again = time.perf_counter()
        try:
            module.handler(spec["second_event"], Context(spec["function"], int(spec["memory_mb"])))
            second_ms = (time.perf_counter() - again) * 1000
        except Exception:  # the first call is what is measured; the second is informative
            second_ms = None
    outcome = {
        "import_ms": (imported - started) * 1000 - (prime_ms or 0) - (restore_ms or 0),
        "prime_ms": prime_ms,
        "restore_hooks_ms": restore_ms,
        "hooks": None if snapstart is None else [len(snapstart.before), len(snapstart.after)],
        "resumed_at": resumed_at,
        "call_ms": (called - imported) * 1000,
        # This process's CPU time for the import and the first call (on-demand only: a restored process
        # has spent its import before the snapshot): unlike the wall time, it does not grow when other
        # work on the machine takes the CPU, so ratios of it hold on a busy machine.
        "cpu_ms": None if snapstart is not None else cpu_used * 1000,
        "second_ms": second_ms,
        "status": f"raised {raised}" if raised else status_of(result),
        "error": error,
        "rss_before_mb": rss_before,
        "rss_peak_mb": rss_peak,
        "modules_before": modules_before,
        "modules_after_call": len(sys.modules),
    }
    if mock is not None:
        mock.stop()
    return outcome


def snippet(spec: dict[str, Any]) -> dict[str, Any]:
    scope: dict[str, Any] = {}
    exec(spec["setup"], scope)  # noqa: S102 - the harness's own fixed snippets
    started = time.perf_counter()
    exec(spec["stmt"], scope)  # noqa: S102
    return {"ms": (time.perf_counter() - started) * 1000}


def main(argv: list[str]) -> int:
    spec_path, result_path = argv[1], argv[2]
    with open(spec_path, encoding="utf-8") as source:
        spec = json.load(source)
    outcome = cold(spec) if spec["kind"] == "cold" else snippet(spec)
    with open(result_path, "w", encoding="utf-8") as sink:
        json.dump(outcome, sink)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
