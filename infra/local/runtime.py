"""Lambda, locally: every function runs in worker processes of its own (infra/local/worker.py), each
with exactly the catalog's environment for that function, kept warm between invocations like a Lambda
container, several at once under concurrent load (up to a cap), and replaced when the code changes.

The gateway, the event dispatcher and the scheduler all invoke through one FunctionPool.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from infra import catalog
from infra.local.settings import ROOT

# Lambda's synchronous invocation limits (request and response), in bytes.
PAYLOAD_LIMIT = 6_291_456
INIT_TIMEOUT_S = 30.0

LogSink = Callable[[str, str], None]  # (function, one line of its output)
EnvFactory = Callable[[catalog.Function], dict[str, str]]


class InvocationError(Exception):
    """The invocation failed. `kind`: missing | init | error | timeout | too_large."""

    def __init__(self, kind: str, message: str, error_type: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.error_type = error_type


@dataclass(frozen=True)
class Invocation:
    function: str
    request_id: str
    result: Any
    duration_ms: float
    init_ms: float | None  # set on a cold start


def code_exists(function: str, root: Path = ROOT) -> bool:
    return (root / "functions" / function / "app.py").is_file()


class CodeVersion:
    """Newest modification time of a function's code and the core layer, looked up at most once a second."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._cache: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def of(self, function: str) -> float:
        now = time.monotonic()
        with self._lock:
            checked, version = self._cache.get(function, (0.0, 0.0))
            if now - checked < 1.0:
                return version
        folders = [self._root / "functions" / function, self._root / "layers" / "core" / "python"]
        version = max((_newest(folder) for folder in folders), default=0.0)
        with self._lock:
            self._cache[function] = (now, version)
        return version


def _newest(folder: Path) -> float:
    newest = 0.0
    for path in folder.rglob("*.py"):
        try:
            newest = max(newest, path.stat().st_mtime)
        except OSError:
            continue  # deleted while we looked
    return newest


class Worker:
    """One worker process and the two threads that read its result pipe and its output."""

    def __init__(
        self,
        fn: catalog.Function,
        env: dict[str, str],
        root: Path,
        version: float,
        sink: Callable[[str], None],
    ) -> None:
        self.fn = fn
        self.version = version
        self._results: queue.Queue[dict[str, Any]] = queue.Queue()
        read_fd, write_fd = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "infra.local.worker", fn.name, str(write_fd)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=root,
                pass_fds=(write_fd,),
                process_group=0,  # out of the terminal's group: Ctrl-C goes to the runner, which stops us
            )
        finally:
            os.close(write_fd)
        assert self.process.stdout is not None
        _daemon(self._read_results, os.fdopen(read_fd, "r", encoding="utf-8"))
        _daemon(self._pump_output, self.process.stdout, sink)
        self.init_ms = self._await_ready()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, event: dict[str, Any], request_id: str, timeout_s: float) -> dict[str, Any]:
        line = json.dumps({"request_id": request_id, "event": event, "timeout_s": timeout_s}) + "\n"
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(line.encode())
            stdin.flush()
        except OSError as error:
            raise InvocationError("error", f"the runtime exited: {error}") from None
        try:
            reply = self._results.get(timeout=timeout_s)
        except queue.Empty:
            self.stop()  # Lambda kills a timed-out sandbox, too
            raise InvocationError("timeout", f"Task timed out after {timeout_s:.2f} seconds") from None
        if reply.get("type") == "exit":
            raise InvocationError("error", f"Runtime exited with error: exit status {self.process.wait()}")
        return reply

    def stop(self) -> None:
        if self.process.stdin:
            with contextlib.suppress(OSError):
                self.process.stdin.close()  # a worker also exits on its own when stdin closes
        _terminate(self.process)

    def _await_ready(self) -> float:
        try:
            message = self._results.get(timeout=INIT_TIMEOUT_S)
        except queue.Empty:
            self.stop()
            raise InvocationError(
                "init", f"{self.fn.name} did not finish importing in {INIT_TIMEOUT_S:.0f} s"
            ) from None
        if message.get("type") != "ready":
            self.stop()
            detail = (
                f"{message.get('errorType', 'Runtime.ExitError')}: {message.get('errorMessage', 'exited')}"
            )
            raise InvocationError(
                "init", f"{self.fn.name} failed to start: {detail}", message.get("errorType")
            )
        return float(message["init_ms"])

    def _read_results(self, pipe: IO[str]) -> None:
        with pipe:
            for line in pipe:
                self._results.put(json.loads(line))
        self._results.put({"type": "exit"})

    @staticmethod
    def _pump_output(stream: IO[bytes], sink: Callable[[str], None]) -> None:
        with stream:
            for raw in stream:
                sink(raw.decode("utf-8", "replace").rstrip("\n"))


def _daemon(target: Callable[..., None], *args: Any) -> None:
    threading.Thread(target=target, args=args, daemon=True).start()


def _terminate(process: subprocess.Popen[bytes], grace_s: float = 3.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class FunctionPool:
    def __init__(
        self,
        env_factory: EnvFactory,
        sink: LogSink,
        *,
        root: Path = ROOT,
        max_per_function: int = 4,
        on_reload: Callable[[str], None] | None = None,
    ) -> None:
        self._env_factory = env_factory
        self._sink = sink
        self._root = root
        self._max = max_per_function
        self._on_reload = on_reload
        self._code = CodeVersion(root)
        self._idle: dict[str, list[Worker]] = {}
        self._count: dict[str, int] = {}
        self._all: set[Worker] = set()
        # Per function, the requests in line, each waiting on its own turn: a change wakes only the head
        # of its function's line (waking every waiter, 32 clients woke 28 threads per released worker).
        self._lock = threading.Lock()
        self._waiting: dict[str, collections.deque[threading.Condition]] = {}
        self._stopped = False
        self._ids = itertools.count(1)

    def available(self, function: str) -> bool:
        return code_exists(function, self._root)

    def invoke(
        self,
        function: str,
        event: dict[str, Any],
        *,
        timeout_s: float | None = None,
        request_id: str | None = None,
    ) -> Invocation:
        fn = catalog.function(function)
        if not self.available(function):
            raise InvocationError("missing", f"functions/{function}/app.py does not exist yet")
        size = len(json.dumps(event))
        if size > PAYLOAD_LIMIT:
            raise InvocationError(
                "too_large", f"{size} byte payload is too large (limit {PAYLOAD_LIMIT} bytes)"
            )
        request_id = request_id or str(uuid.uuid4())
        worker, cold = self._acquire(fn)
        healthy = False
        try:
            reply = worker.invoke(event, request_id, float(timeout_s or fn.timeout_s))
            healthy = True
        finally:
            self._release(worker, healthy)
        if not reply.get("ok"):
            raise InvocationError("error", str(reply.get("errorMessage")), reply.get("errorType"))
        return Invocation(function, request_id, reply.get("result"), float(reply["duration_ms"]), cold)

    def handler(self, function: str) -> Callable[[dict[str, Any], Any], Any]:
        """A Lambda-style callable for the event dispatcher: raises when the invocation fails."""

        def invoke(event: dict[str, Any], _context: Any) -> Any:
            return self.invoke(function, event).result

        return invoke

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._all if w.alive]

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            workers = list(self._all)
            for line in self._waiting.values():
                for turn in line:
                    turn.notify()
        for worker in workers:
            worker.stop()

    def _acquire(self, fn: catalog.Function) -> tuple[Worker, float | None]:
        version = self._code.of(fn.name)
        with self._lock:
            # First come, first served: a request takes a worker only at the head of its function's line.
            # Without the line, whichever thread woke first won, and a request could lose to newcomers
            # again and again (32 clients on 4 workers: a p99 of 17 s for a p50 of 3 s).
            line = self._waiting.setdefault(fn.name, collections.deque())
            turn = threading.Condition(self._lock)
            line.append(turn)
            try:
                while True:
                    if self._stopped:
                        raise InvocationError("error", "the local stack is stopping")
                    if line[0] is turn:
                        worker = self._take_idle(fn.name, version)
                        if worker is not None:
                            return worker, None
                        if self._count.get(fn.name, 0) < self._max:
                            self._count[fn.name] = self._count.get(fn.name, 0) + 1
                            break
                    turn.wait()
            finally:
                line.remove(turn)
                self._wake_next(fn.name)  # the next in line may go too
        try:
            worker = Worker(fn, self._env_factory(fn), self._root, version, self._sink_for(fn.name))
        except BaseException:
            self._forget(fn.name, None)
            raise
        with self._lock:
            stopped = self._stopped
            if not stopped:
                self._all.add(worker)
        if stopped:  # stop() ran while this one started: it must not outlive the pool
            self._release(worker, healthy=False)
            raise InvocationError("error", "the local stack is stopping")
        return worker, worker.init_ms

    def _take_idle(self, function: str, version: float) -> Worker | None:
        idle = self._idle.setdefault(function, [])
        while idle:
            worker = idle.pop()
            if worker.alive and worker.version == version:
                return worker
            if worker.alive and self._on_reload:
                self._on_reload(function)
            self._count[function] -= 1
            self._all.discard(worker)
            threading.Thread(target=worker.stop, daemon=True).start()
        return None

    def _release(self, worker: Worker, healthy: bool) -> None:
        if healthy and worker.alive and not self._stopped:
            with self._lock:
                self._idle.setdefault(worker.fn.name, []).append(worker)
                self._wake_next(worker.fn.name)
            return
        worker.stop()
        self._forget(worker.fn.name, worker)

    def _forget(self, function: str, worker: Worker | None) -> None:
        with self._lock:
            self._count[function] -= 1
            if worker is not None:
                self._all.discard(worker)
            self._wake_next(function)

    def _wake_next(self, function: str) -> None:
        """Tell the head of `function`'s line that a worker may be free (the lock is held)."""
        line = self._waiting.get(function)
        if line:
            line[0].notify()

    def _sink_for(self, function: str) -> Callable[[str], None]:
        return lambda line: self._sink(function, line)
