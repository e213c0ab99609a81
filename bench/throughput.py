"""The local stack's throughput: requests per second and latency of GetPayment and ProcessPayment under
N concurrent clients over loopback.

The stack is `make dev`'s own runner (`python -m infra.local.dev`), started on free ports with its state
in bench/.cache/stack: the local API gateway with its authorizer, function workers in their own
processes, the moto server and the Stripe emulator. When the runner cannot start, a minimal in-harness
server (bench/miniserver.py) stands in and the report says so. The load comes from another process
(bench/load.py), so clients and server do not share an interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from typing import IO, Any

from bench import common
from bench.common import CACHE, ROOT, log
from infra.local.ports import free_ports

READY_TIMEOUT_S = 120.0


class Stack:
    """`make dev`'s runner as a child process; stopped with SIGTERM, which stops everything it started."""

    mode = "local stack (python -m infra.local.dev)"

    def __init__(self, concurrency: int | None) -> None:
        self.state_dir = CACHE / f"stack-{os.getpid()}"  # runs never share a state file
        self.concurrency = concurrency
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.token: str | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> Stack:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        state_file = self.state_dir / "dev.json"
        state_file.unlink(missing_ok=True)
        env = {
            **common.child_environment({}),
            **free_ports(),
            "LOCAL_STATE_DIR": str(self.state_dir),
            "LOCAL_LOG_LEVEL": "WARNING",
            "LOCAL_SCHEDULE_SECONDS": "3600",  # keep the outbox relay's timer out of the measurement
            "NO_COLOR": "1",
        }
        if self.concurrency:
            env["LOCAL_FUNCTION_CONCURRENCY"] = str(self.concurrency)
        self._log = (self.state_dir / "runner.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.dev"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the local stack exited with {self.process.returncode}: {self._tail()}")
            if state_file.exists():
                try:
                    state = json.loads(state_file.read_text())
                except ValueError:
                    state = None
                if state:
                    from infra.local.tokens import issue_token

                    self.url = state["api_url"]
                    self.token = issue_token(state["jwt_secret"], common.CUSTOMER)
                    _let_payments_through(
                        self.url, issue_token(state["jwt_secret"], "bench-admin", admin=True)
                    )
                    return self
            time.sleep(0.2)
        raise RuntimeError(f"the local stack was not ready within {READY_TIMEOUT_S:.0f} s: {self._tail()}")

    def _tail(self) -> str:
        path = self.state_dir / "runner.log"
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-4:]) if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
        shutil.rmtree(self.state_dir, ignore_errors=True)


def _let_payments_through(api_url: str, admin_token: str) -> None:
    """Store rules the load's payments (one customer, one address) never reach (common.py)."""
    import urllib.request
    import uuid

    request = urllib.request.Request(  # noqa: S310 - the loopback stack
        f"{api_url}/risk/rules",
        data=json.dumps(common.rules_letting_payments_through()).encode(),
        method="PUT",
        headers={
            "Authorization": f"Bearer {admin_token}",
            "Content-Type": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
        },
    )
    with urllib.request.urlopen(request, timeout=60):  # noqa: S310 - an error status raises
        pass


class MiniServer:
    mode = "in-harness server (bench/miniserver.py): in-process handlers, moto server, no authorizer"

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.token: str | None = None

    def start(self) -> MiniServer:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.miniserver"],
            cwd=ROOT,
            env=common.child_environment({}),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the in-harness server did not start")
        self.url = json.loads(line)["url"]
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _load(server: Any, op: str, clients: int, duration: float, warmup: float) -> dict[str, Any]:
    argv = [
        sys.executable,
        "-m",
        "bench.load",
        "--url",
        server.url,
        "--op",
        op,
        "--clients",
        str(clients),
        "--duration",
        str(duration),
        "--warmup",
        str(warmup),
    ]
    if server.token:
        argv += ["--token", server.token]
    completed = subprocess.run(  # noqa: S603
        argv,
        cwd=ROOT,
        env=common.child_environment({}),
        capture_output=True,
        text=True,
        timeout=duration + warmup + 300,
        check=False,
    )
    if completed.returncode != 0 or not completed.stdout.strip():
        return {"op": op, "clients": clients, "error": completed.stderr.strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def measure(
    *, duration: float, clients: list[int], operations: list[str], mode: str, concurrency: int | None
) -> dict[str, Any]:
    server: Any = None
    notes: list[str] = []
    if mode in ("auto", "stack"):
        try:
            server = Stack(concurrency).start()
        except Exception as error:
            if mode == "stack":
                raise
            notes.append(f"local stack unavailable ({error}); used the in-harness server")
            server = None
    if server is None:
        server = MiniServer().start()
    warmup = min(3.0, max(0.5, duration / 5))
    runs = []
    try:
        for op in operations:
            for count in clients:
                log(f"throughput: {op} with {count} clients for {duration:g} s")
                runs.append(_load(server, op, count, duration, warmup))
    finally:
        server.stop()
    return {
        "server": server.mode,
        "function_concurrency": concurrency or "the stack's default (LOCAL_FUNCTION_CONCURRENCY, 4)",
        "duration_s": duration,
        "warmup_s": warmup,
        "notes": notes,
        "runs": runs,
        "cpus": os.cpu_count(),
    }
