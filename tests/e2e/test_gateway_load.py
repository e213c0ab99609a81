"""The local gateway under concurrent clients: every connection is accepted and every request answered.

Bounded on purpose: 64 clients on loopback, a fixed number of requests each, no timing asserted (a
generous per-request timeout only turns a hang into a failure).
"""

from __future__ import annotations

import email.utils
import errno
import http.client
import json
import selectors
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from infra.local.gateway import HEALTH_PATH, GatewayServer, LocalGateway
from infra.local.launcher import LaunchedStack
from infra.local.runtime import Invocation
from infra.local.tokens import issue_token

pytestmark = pytest.mark.e2e

CLIENTS = 64
ROUNDS = 2
REQUEST_TIMEOUT_S = 60.0  # a hang detector, not a latency budget
CONNECT_WAIT_S = 10.0
SECRET = "load-test-signing-key-long-enough-for-hs256"
OK = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok": true}'}


class InstantFunctions:
    def available(self, function: str) -> bool:
        return True

    def invoke(
        self,
        function: str,
        event: dict[str, Any],
        *,
        timeout_s: float | None = None,
        request_id: str | None = None,
    ) -> Invocation:
        return Invocation(function, request_id or "", OK, 1.0, None)


def test_a_burst_of_64_connections_fits_the_listen_backlog() -> None:
    """Before the gateway accepts any, 64 clients connect at once: the kernel must complete every
    handshake. With socketserver's default backlog of 5 only 6 complete; the others' SYNs are dropped,
    and such clients stall for seconds, time out or are reset."""
    server = GatewayServer("127.0.0.1", 0, LocalGateway(InstantFunctions(), SECRET, None, lambda *_: None))
    started = False
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(CLIENTS)]
    try:
        for sock in sockets:
            sock.setblocking(False)
            assert sock.connect_ex(server.server_address[:2]) in (0, errno.EINPROGRESS)
        connected = _connected(sockets, CONNECT_WAIT_S)

        assert len(connected) == CLIENTS, f"only {len(connected)} of {CLIENTS} handshakes completed"

        server.start()
        started = True
        answers = [_raw_get(sock, "/v1/nothing-here") for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
        if started:
            server.stop()
        else:
            server.server_close()
    assert [status for status, _ in answers] == [404] * CLIENTS
    assert all(json.loads(body)["code"] == "not_found" for _, body in answers)


def test_the_server_serves_each_connection_on_a_daemon_thread() -> None:
    """A slow function or an idle keep-alive client holds one thread, never the accept loop, and no
    connection's thread keeps a stopping stack alive."""
    assert issubclass(GatewayServer, socketserver.ThreadingMixIn)
    assert GatewayServer.daemon_threads is True
    assert GatewayServer.request_queue_size >= CLIENTS


def _connected(sockets: list[socket.socket], wait_s: float) -> list[socket.socket]:
    """The sockets whose non-blocking connect completed (successfully) within wait_s."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_WRITE, sock)
    done: list[socket.socket] = []
    deadline = time.monotonic() + wait_s
    try:
        while len(done) < len(sockets) and (left := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(timeout=left):
                sock = key.data
                selector.unregister(sock)
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    done.append(sock)
    finally:
        selector.close()
    return done


def _raw_get(sock: socket.socket, path: str) -> tuple[int, bytes]:
    sock.setblocking(True)
    sock.settimeout(REQUEST_TIMEOUT_S)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, response.read()


def test_64_concurrent_clients_in_process_are_all_answered() -> None:
    server = GatewayServer(
        "127.0.0.1", 0, LocalGateway(InstantFunctions(), SECRET, None, lambda *_: None)
    ).start()
    try:
        host, port = server.server_address[:2]
        token = issue_token(SECRET, "alice")
        plan = [
            Call("/v1/nothing-here", 404),
            Call("/v1/payments", 401),
            Call("/v1/payments", 200, token, content_type="application/json"),
        ]
        report = run_clients(str(host), port, plan * ROUNDS)
    finally:
        server.stop()

    assert report.failures == [], report.summary()
    assert report.answered == CLIENTS * len(plan) * ROUNDS


# --------------------------------------------------------------------------- against make dev's stack


def test_64_concurrent_clients_of_the_local_stack_are_all_answered(stack: LaunchedStack) -> None:
    api = urlsplit(stack.state.api_url)
    host, port = api.hostname or "127.0.0.1", api.port or 80
    customer = token_on_stack_clock(stack, "load-test-customer")
    plan = [
        Call("/v1/docs", 200, content_type="text/html; charset=utf-8"),
        Call("/v1/nothing-here", 404),  # routed by the gateway, no function
        Call("/v1/payments", 401),  # the authorizer
        Call("/v1/payments?limit=5", 200, customer, content_type="application/json"),  # list_payments
        Call("/v1/payments/pay_not_there", 404, customer),  # get_payment
    ]
    for call in plan:  # one of each first: the burst then meets warm workers (not required, only kinder)
        assert run_clients(host, port, [call], clients=1).failures == []

    report = run_clients(host, port, plan * ROUNDS)

    assert report.failures == [], report.summary()
    assert report.answered == CLIENTS * len(plan) * ROUNDS


def token_on_stack_clock(stack: LaunchedStack, sub: str) -> str:
    """A token issued at the stack's time (its Date header), so it is valid whatever this process's
    clock says (the suite also runs with the test process's clock moved)."""
    base = stack.state.api_url.rsplit("/", 1)[0]
    api = urlsplit(base)
    connection = http.client.HTTPConnection(api.hostname or "127.0.0.1", api.port, timeout=30)
    try:
        connection.request("GET", HEALTH_PATH)
        response = connection.getresponse()
        response.read()
        date = response.getheader("Date")
    finally:
        connection.close()
    assert date, "the gateway sends a Date header"
    return issue_token(stack.state.jwt_secret, sub, now=email.utils.parsedate_to_datetime(date).timestamp())


# --------------------------------------------------------------------------- the clients


@dataclass(frozen=True)
class Call:
    path: str
    status: int
    token: str | None = None
    content_type: str = "application/problem+json"


@dataclass
class Report:
    answered: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (path, kind, detail)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self) -> None:
        with self.lock:
            self.answered += 1

    def fail(self, path: str, kind: str, detail: str) -> None:
        with self.lock:
            self.failures.append((path, kind, detail))

    def summary(self) -> str:
        kinds: dict[str, int] = {}
        for _, kind, _ in self.failures:
            kinds[kind] = kinds.get(kind, 0) + 1
        return f"{len(self.failures)} failed, {self.answered} answered; {kinds}; first: {self.failures[:5]}"


def run_clients(host: str, port: int, plan: list[Call], clients: int = CLIENTS) -> Report:
    """`clients` threads released at once, each making the plan's requests in order, each on a new
    connection (new connections are what a listen backlog limits)."""
    report = Report()
    start = threading.Barrier(clients)

    def client() -> None:
        start.wait()
        for call in plan:
            _check(report, call, host, port)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT_S * (len(plan) + 1))
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    return report


def _check(report: Report, call: Call, host: str, port: int) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_S)
    headers = {"Authorization": f"Bearer {call.token}"} if call.token else {}
    try:
        connection.request("GET", call.path, headers=headers)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as error:  # resets, refusals, timeouts, garbage
        report.fail(call.path, type(error).__name__, str(error))
        return
    finally:
        connection.close()
    problems = []
    if response.status != call.status:
        problems.append(f"status {response.status}, expected {call.status}")
    if response.getheader("Content-Type") != call.content_type:
        problems.append(f"Content-Type {response.getheader('Content-Type')}")
    if response.getheader("Content-Length") != str(len(body)):
        problems.append("Content-Length disagrees with the body")
    if not response.getheader("x-amzn-RequestId"):
        problems.append("no x-amzn-RequestId")
    if call.content_type != "text/html; charset=utf-8":
        try:
            json.loads(body)
        except ValueError:
            problems.append(f"body is not JSON: {body[:80]!r}")
    if problems:
        report.fail(call.path, "invalid answer", "; ".join(problems))
    else:
        report.ok()
