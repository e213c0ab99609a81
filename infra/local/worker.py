"""One warm "Lambda container": `python -m infra.local.worker <function> <result-fd>`.

Imports `functions.<function>.app` once (the cold start), then runs its handler for each invocation read
from stdin (one JSON line each) and answers on the result pipe. The handler's own output (Powertools'
JSON logs, prints, tracebacks) goes to stdout, which the host keeps as the function's log, with Lambda's
START/END/REPORT lines around each invocation. Exits when stdin closes (its host went away).
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import time
import traceback
from typing import Any, TextIO

from infra.local.lambda_context import LambdaContext


def _send(channel: TextIO, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def _error(error: BaseException) -> dict[str, str]:
    return {"errorType": type(error).__name__, "errorMessage": str(error)}


def _invoke(handler: Any, function: str, request: dict[str, Any]) -> dict[str, Any]:
    request_id = request["request_id"]
    context = LambdaContext(
        function,
        int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")),
        float(request["timeout_s"]),
        request_id,
        time.monotonic(),
    )
    print(f"START RequestId: {request_id} Version: $LATEST", flush=True)
    started = time.perf_counter()
    try:
        result = handler(request["event"], context)
        json.dumps(result)  # Lambda must serialize the result too
        reply: dict[str, Any] = {"ok": True, "result": result}
    except Exception as error:  # the invocation fails, the container stays warm, like Lambda
        print(f"[ERROR] {type(error).__name__}: {error}", flush=True)
        traceback.print_exc(file=sys.stdout)
        reply = {"ok": False, **_error(error)}
    duration = (time.perf_counter() - started) * 1000
    print(f"END RequestId: {request_id}", flush=True)
    print(f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms", flush=True)
    return {**reply, "type": "result", "request_id": request_id, "duration_ms": duration}


def main(argv: list[str]) -> int:
    function, fd = argv[1], int(argv[2])
    # The host stops workers by pid; a Ctrl-C in the terminal is the runner's to handle.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with os.fdopen(fd, "w", encoding="utf-8") as results:
        started = time.perf_counter()
        try:
            handler = importlib.import_module(f"functions.{function}.app").handler
        except BaseException as error:  # an import error must reach the host, not kill it silently
            traceback.print_exc(file=sys.stdout)
            _send(results, {"type": "init_error", **_error(error)})
            return 1
        _send(results, {"type": "ready", "init_ms": (time.perf_counter() - started) * 1000})
        for line in sys.stdin:
            _send(results, _invoke(handler, function, json.loads(line)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
