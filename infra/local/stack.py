"""The local stack `make dev` runs: what starts, in which order, and how it all stops.

Processes (all owned by the runner, all on 127.0.0.1):
- moto server (child process): DynamoDB, EventBridge, SQS, Secrets Manager, with the catalog's resources;
- the Stripe emulator (child process), sending signed webhooks to the gateway; or real Stripe test mode;
- function workers (child processes, started on first call): warm "Lambda containers", one per function
  and more under concurrent calls;
- in the runner itself (threads): the API gateway, the event dispatcher (rule -> SQS -> subscriber,
  retries, DLQ), the bus tap that logs every event and the schedule (outbox_relay); its main thread
  watches moto and the emulator.

If anything fails to start, everything already started is stopped again before the error is reported.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from infra import catalog
from infra.local import resources
from infra.local.console import Console
from infra.local.dispatcher import Delivery, EventDispatcher
from infra.local.docs import ApiDocs
from infra.local.environment import aws_client, base_environment, function_environment
from infra.local.gateway import STAGE, GatewayServer, LocalGateway
from infra.local.lambda_api import LocalLambdaApi
from infra.local.logs import FunctionLogs
from infra.local.runtime import CodeVersion, FunctionPool, InvocationError
from infra.local.settings import EMULATOR_API_KEY, HOST, ROOT, LocalSettings, StackState
from infra.local.tap import EventTap, describe
from infra.local.web import LocalSite

MAX_ATTEMPTS = 3  # per event and subscriber, then the subscriber's DLQ
READY_TIMEOUT_S = 60.0
DISPATCH_INTERVAL_S = 0.2
DISPATCH_LONG_POLL_S = 2  # short enough for Ctrl-C to stop the loops promptly


class StartupError(RuntimeError):
    """A component did not start; everything started before it has been stopped."""


# Loaded here, in the parent: the forked child only calls into it (no dynamic loading between fork and exec).
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the runner dies without cleaning up (kill -9, a crash)."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ChildProcess:
    """A long-lived child: own process group (Ctrl-C reaches only the runner), output to a log file."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log: IO[bytes] = log_path.open("wb")  # each run starts its logs afresh
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            process_group=0,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - started from the main thread, before any other
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_listening(self, port: int, timeout_s: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StartupError(
                    f"{self.name} exited with code {self.process.returncode}: {self.last_output()}"
                )
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
                return
            time.sleep(0.1)
        raise StartupError(f"{self.name} did not listen on port {port} within {timeout_s:.0f} s")

    def last_output(self) -> str:
        self._log.flush()
        lines = self.log_path.read_text(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no output"

    def stop(self, grace_s: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def retry_delay(attempt: int) -> int:
    """Seconds before the next attempt: 1, 2, 4... (EventBridge backs off between retries, too)."""
    return int(2 ** (attempt - 1))


def delivery_line(delivery: Delivery) -> tuple[str, str]:
    """`make dev`'s line (and its level) for one dispatch step."""
    head = f"{delivery.detail_type} {delivery.subject or delivery.event_id} -> {delivery.function}"
    if delivery.outcome == "ok":
        return f"{head} ok (attempt {delivery.attempt})", "info"
    if delivery.outcome == "retry":
        delay = retry_delay(delivery.attempt)
        return (
            f"{head} FAILED attempt {delivery.attempt}/{MAX_ATTEMPTS}, retry in {delay} s: {delivery.error}",
            "warn",
        )
    dlq = resources.subscriber_queue_names(catalog.function(delivery.function))[1]
    return f"{head} FAILED {delivery.attempt} times, parked in DLQ {dlq}: {delivery.error}", "error"


def scheduled_event(fn: catalog.Function) -> dict[str, Any]:
    """What an EventBridge schedule delivers to a timer function (the local timer below)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{fn.name}-schedule"],
        "detail": {},
    }


def build_dispatcher(
    sqs: Any,
    routes: dict[str, tuple[str, str]],
    handlers: dict[str, Callable[[dict[str, Any], Any], Any]],
    console: Console,
    is_ready: Callable[[str], bool] | None = None,
) -> EventDispatcher:
    """The dispatcher as `make dev` runs it: retries with backoff, then the DLQ, one log line per step."""

    def log(delivery: Delivery) -> None:
        message, level = delivery_line(delivery)
        console.line("dispatch", message, level)

    return EventDispatcher(
        sqs,
        routes,
        max_attempts=MAX_ATTEMPTS,
        handlers=handlers,
        on_delivery=log,
        is_ready=is_ready,
        retry_delay=retry_delay,
    )


class LocalStack:
    def __init__(self, settings: LocalSettings, console: Console) -> None:
        self.settings = settings
        self.console = console
        self._stopping = threading.Event()
        self._cleanups: list[Callable[[], None]] = []  # run last-in first-out
        self._threads: list[threading.Thread] = []
        self._motos: dict[str, ChildProcess] = {}
        self._emulator: ChildProcess | None = None
        self._emulator_reported = False

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> StackState:
        try:
            self._start_moto()
            routes, tap = self._provision()
            self._start_stripe()
            pool = self._start_functions()
            self._start_gateway(pool)
            self._start_loops(pool, routes, tap)
            state = self._state()
            state.save(self.settings.state_file)
            self._cleanups.append(lambda: self.settings.state_file.unlink(missing_ok=True))
            return state
        except BaseException:
            self.stop()
            raise

    def request_stop(self) -> None:
        self._stopping.set()

    def wait(self) -> int:
        """Until a stop is requested (0) or a moto server dies (1)."""
        while not self._stopping.wait(0.5):
            for name, moto in self._motos.items():
                if moto.process.poll() is not None:
                    self.console.line(
                        "stack", f"{name} server exited ({moto.last_output()}); stopping", "error"
                    )
                    return 1
            self._check_emulator()
        return 0

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=10)
        while self._cleanups:
            cleanup = self._cleanups.pop()
            try:
                cleanup()
            except Exception as error:  # keep stopping the rest
                self.console.line("stack", f"while stopping: {type(error).__name__}: {error}", "warn")

    # ------------------------------------------------------------------ components

    def _child(self, name: str, argv: list[str], port: int) -> ChildProcess:
        child = ChildProcess(name, argv, self.settings.log_dir / f"{name}.log", base_environment())
        self._cleanups.append(child.stop)
        child.wait_listening(port)
        self.console.line("stack", f"{name} listening on http://{HOST}:{port} (pid {child.pid})")
        return child

    def _start_moto(self) -> None:
        """moto twice: DynamoDB in one process, the other services in another (LocalSettings says why)."""
        for name, port in (
            ("moto", self.settings.moto_port),
            ("moto-dynamodb", self.settings.moto_dynamodb_port),
        ):
            argv = [sys.executable, "-m", "infra.local.moto_server", "--host", HOST, "--port", str(port)]
            self._motos[name] = self._child(name, argv, port)

    def _provision(self) -> tuple[dict[str, tuple[str, str]], EventTap]:
        url = self.settings.moto_url
        events, sqs = aws_client("events", url), aws_client("sqs", url)
        resources.create_tables(aws_client("dynamodb", self.settings.dynamodb_url))
        resources.create_archive(events, resources.create_bus(events))
        resources.create_secrets(
            aws_client("secretsmanager", url),
            stripe_api_key=self.settings.stripe_api_key or EMULATOR_API_KEY,
            webhook_secret=self.settings.webhook_secret,
        )
        routes = resources.create_subscriber_routes(events, sqs)
        tap = EventTap(events, sqs)
        names = ", ".join(t.name for t in catalog.TABLES)
        self.console.line(
            "stack",
            f"created tables {names}; bus {catalog.EVENT_BUS} and its archive; {len(routes)} rules; secrets",
        )
        return routes, tap

    def _start_stripe(self) -> None:
        if not self.settings.uses_emulator:
            self.console.line("stack", "Stripe test mode (STRIPE_API_KEY): no emulator", "warn")
            return
        port = self.settings.stripe_port
        argv = [
            sys.executable, "-m", "infra.local.stripe_emulator", "--host", HOST, "--port", str(port),
            "--webhook-url", self.settings.webhook_url, "--webhook-secret", self.settings.webhook_secret,
        ]  # fmt: skip
        if self.settings.webhook_chaos:
            argv += ["--webhook-chaos", self.settings.webhook_chaos]
            self.console.line(
                "stack", f"Stripe webhooks reordered, duplicated, delayed ({self.settings.webhook_chaos})"
            )
        self._emulator = self._child("stripe-emulator", argv, port)

    def _environment(self, fn: catalog.Function) -> dict[str, str]:
        return function_environment(
            fn,
            moto_url=self.settings.moto_url,
            dynamodb_url=self.settings.dynamodb_url,
            stripe_api_base=self.settings.stripe_url,
            log_level=self.settings.log_level,
        )

    def _start_functions(self) -> FunctionPool:
        logs = FunctionLogs(self.settings.log_dir / "functions", self.console.line)
        settings = self.settings
        pool = FunctionPool(
            self._environment,
            logs.write,
            max_per_function=settings.function_concurrency,
            on_reload=lambda name: self.console.line(
                "reload", f"{name}: code changed, starting a fresh worker"
            ),
        )
        self._cleanups += [logs.close, pool.stop]
        return pool

    def _start_gateway(self, pool: FunctionPool) -> None:
        code = CodeVersion(ROOT)
        docs = ApiDocs(STAGE, lambda: code.of(""), lambda text: self.console.line("docs", text, "warn"))
        functions = LocalLambdaApi(pool, self._environment)  # the operator tools' Lambda API
        gateway = LocalGateway(
            pool,
            self.settings.jwt_secret,
            docs,
            self.console.line,
            lambda_functions=functions,
            site=LocalSite(self.settings.api_url),  # the console and checkout pages (web/)
        )
        try:
            server = GatewayServer(HOST, self.settings.gateway_port, gateway).start()
        except OSError as error:
            raise StartupError(
                f"the gateway cannot listen on port {self.settings.gateway_port}: {error}"
            ) from None
        self._cleanups.append(server.stop)
        self.console.line("stack", f"API gateway listening on {self.settings.api_url}")

    def _start_loops(self, pool: FunctionPool, routes: dict[str, tuple[str, str]], tap: EventTap) -> None:
        dispatcher = build_dispatcher(
            aws_client("sqs", self.settings.moto_url, connections=len(routes) + 2),  # a loop per queue
            routes,
            {name: pool.handler(name) for name in routes},
            self.console,
            is_ready=pool.available,
        )
        # One loop per subscriber, as each rule delivers on its own: a busy subscriber does not hold up
        # the others, and an idle queue waits in a long poll instead of being asked five times a second
        # (ten queues polled in turn were most of the moto server's requests, and all deliveries waited
        # in one line).
        for function in routes:
            poll = functools.partial(dispatcher.poll, function, DISPATCH_LONG_POLL_S)
            self._every(f"dispatch {function}", DISPATCH_INTERVAL_S, poll)
        self._every("bus", 0.3, functools.partial(self._print_events, tap))
        for fn in catalog.FUNCTIONS:
            if fn.schedule_minutes:
                seconds = self.settings.schedule_seconds or fn.schedule_minutes * 60
                self._every("timer", seconds, functools.partial(self._run_scheduled, pool, fn))

    def _every(self, name: str, seconds: float, action: Callable[[], object]) -> None:
        """Run `action` every `seconds` until stopped; a failure is logged once, not once per tick."""

        def loop() -> None:
            last_error = ""
            while not self._stopping.wait(seconds):
                try:
                    action()
                    last_error = ""
                except Exception as error:
                    message = f"{type(error).__name__}: {error}"
                    if message != last_error:
                        self.console.line(name, message, "error")
                    last_error = message

        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _print_events(self, tap: EventTap) -> None:
        for event in tap.poll():
            self.console.line("bus", describe(event))

    def _run_scheduled(self, pool: FunctionPool, fn: catalog.Function) -> None:
        if not pool.available(fn.name):
            return
        try:
            invocation = pool.invoke(fn.name, scheduled_event(fn))
        except InvocationError as error:
            self.console.line("timer", f"{fn.name} failed: {error}", "error")
            return
        result = json.dumps(invocation.result, separators=(",", ":"))
        self.console.line("timer", f"{fn.name} ok {invocation.duration_ms:.0f} ms {result}", "dim")

    def _check_emulator(self) -> None:
        emulator = self._emulator
        if emulator is None or self._emulator_reported or emulator.process.poll() is None:
            return
        self._emulator_reported = True
        self.console.line(
            "stack",
            f"the Stripe emulator exited (code {emulator.process.returncode}): Stripe calls now fail with "
            "503 payment_provider_unavailable. Restart make dev to get it back.",
            "error",
        )

    def _state(self) -> StackState:
        processes = {name: child.pid for name, child in self._motos.items()}
        if self._emulator:
            processes["stripe-emulator"] = self._emulator.pid
        return StackState(
            runner_pid=os.getpid(),
            api_url=self.settings.api_url,
            moto_url=self.settings.moto_url,
            dynamodb_url=self.settings.dynamodb_url,
            stripe_url=self.settings.stripe_url,
            webhook_secret=self.settings.webhook_secret,
            jwt_secret=self.settings.jwt_secret,
            log_dir=str(self.settings.log_dir),
            processes=processes,
        )
