"""Function output: every line kept in <state dir>/logs/functions/<function>.log, and the warnings and
errors among Powertools' JSON records echoed as one readable line each."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

LOUD_LEVELS = {"WARNING", "ERROR", "CRITICAL"}
# Powertools' own keys: everything else in a record is what the code chose to log.
_STANDARD_KEYS = {
    "level",
    "location",
    "message",
    "timestamp",
    "service",
    "sampling_rate",
    "xray_trace_id",
    "correlation_id",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "exception",
    "exception_name",
    "stack_trace",
}


def summarize(record: dict[str, Any]) -> str:
    """`WARNING request failed code=payment_provider_unavailable status=503`."""
    extras = " ".join(
        f"{k}={v}" for k, v in record.items() if k not in _STANDARD_KEYS and not isinstance(v, dict)
    )
    exception = f" [{record['exception_name']}]" if record.get("exception_name") else ""
    return f"{record.get('level')} {record.get('message')}{exception} {extras}".strip()


class FunctionLogs:
    def __init__(self, folder: Path, echo: Callable[[str, str, str], None] | None = None) -> None:
        self.folder = folder
        self._echo = echo
        self._files: dict[str, IO[str]] = {}
        self._lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, function: str) -> Path:
        return self.folder / f"{function}.log"

    def write(self, function: str, line: str) -> None:
        with self._lock:
            if function not in self._files:
                # This run's log only: a file from an earlier run is replaced on the first line.
                self._files[function] = self.path(function).open("w", encoding="utf-8", buffering=1)
            self._files[function].write(line + "\n")
        record = _record(line)
        if self._echo and record and str(record.get("level")).upper() in LOUD_LEVELS:
            self._echo(
                "fn",
                f"{function}: {summarize(record)}",
                "warn" if record.get("level") == "WARNING" else "error",
            )

    def close(self) -> None:
        with self._lock:
            for file in self._files.values():
                file.close()
            self._files.clear()


def _record(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
