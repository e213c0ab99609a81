"""Closed-loop HTTP load over loopback: `python -m bench.load --url ... --op get_payment --clients 8`.

Runs in its own process so that the clients do not share an interpreter (and its GIL) with the server
they measure. Each client thread keeps one HTTP/1.1 connection and sends its next request as soon as
the previous answer arrives. Warm-up, not measured: every client's first requests, until all clients
have had an answer and `warmup` seconds have passed (the local stack starts its workers on demand).
Measured: the requests that end inside the window, whenever they began.
Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
import uuid
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from bench.common import CUSTOMER, order_id, percentile

AMOUNT, CURRENCY = 2599, "usd"
PAYMENT = {
    "amount": AMOUNT,
    "currency": CURRENCY,
    "payment_method_id": "pm_card_visa",
    "description": "bench",
}


class Client:
    def __init__(self, url: str, token: str | None) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.token = token
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if method == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        payload = None if body is None else json.dumps(body)
        for attempt in range(2):  # one reconnect: a server may close an idle keep-alive connection
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.connection.request(method, self.prefix + path, body=payload, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, data
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt:
                    raise
        raise RuntimeError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def customers_payment(prefix: str) -> dict[str, Any]:
    """A new order's payment as the bench customer's frontend sends it: with the order's token."""
    from infra.local.tokens import issue_order_token

    order = order_id(prefix)
    token = issue_order_token(order, AMOUNT, CURRENCY, CUSTOMER)
    return {**PAYMENT, "order_id": order, "order_token": token}


def _one(client: Client, op: str, payment_id: str) -> int:
    if op == "process_payment":
        status, _ = client.request("POST", "/payments", customers_payment("o"))
    else:
        status, _ = client.request("GET", f"/payments/{payment_id}")
    return status


class Run:
    """One closed-loop run: `clients` threads, a shared warm-up barrier, then a measured window."""

    def __init__(self, url: str, token: str | None, op: str, clients: int) -> None:
        self.url, self.token, self.op, self.clients = url, token, op, clients
        self.payment_id = ""
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.warmed = threading.Barrier(clients + 1)
        self.started = threading.Event()
        self.window = (0.0, 0.0)

    def seed(self) -> str | None:
        """A payment for GetPayment to read; None when it worked, else why not."""
        client = Client(self.url, self.token)
        status, data = client.request("POST", "/payments", customers_payment("seed"))
        client.close()
        if status != 201:
            return f"seeding a payment answered {status}: {data[:300]!r}"
        self.payment_id = json.loads(data)["id"]
        return None

    def worker(self) -> None:
        client = Client(self.url, self.token)
        self._call(client)
        self.warmed.wait()
        mine: list[float] = []
        statuses: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        # One closed loop through the rest of the warm-up and the window. A request counts when it ends
        # inside the window (the load before it is the same), so req/s is completions per second at any
        # latency: counting only those begun inside dropped about one latency's worth per client, 10 %
        # of a 20 s run at 32 clients and 2 s each, and made 32 clients look slower than 8.
        while not (self.started.is_set() and time.perf_counter() >= self.window[1]):
            began = time.perf_counter()
            try:
                label = str(_one(client, self.op, self.payment_id))
            except Exception as error:  # counted, not fatal: the run goes on
                label, failure = "error", type(error).__name__
                client.close()
            ended = time.perf_counter()
            measure_from, stop_at = self.window if self.started.is_set() else (0.0, 0.0)
            if measure_from <= ended <= stop_at:
                mine.append((ended - began) * 1000)
                statuses[label] += 1
                if label == "error":
                    errors[failure] += 1
        client.close()
        with self.lock:
            self.latencies.extend(mine)
            self.statuses.update(statuses)
            self.errors.update(errors)

    def _call(self, client: Client) -> None:
        try:
            _one(client, self.op, self.payment_id)
        except Exception:  # warm-up only; the measured loop counts failures
            client.close()

    def go(self, duration: float, warmup: float) -> None:
        threads = [threading.Thread(target=self.worker, daemon=True) for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        self.warmed.wait(timeout=300)
        time.sleep(warmup)
        now = time.perf_counter()
        self.window = (now, now + duration)
        self.started.set()
        for thread in threads:
            thread.join(duration + 120)


def run(
    url: str, token: str | None, *, op: str, clients: int, duration: float, warmup: float
) -> dict[str, Any]:
    load = Run(url, token, op, clients)
    problem = load.seed()
    if problem:
        return {"op": op, "clients": clients, "error": problem}
    load.go(duration, warmup)
    ok = sum(n for s, n in load.statuses.items() if s.startswith("2"))
    latencies = load.latencies
    return {
        "op": op,
        "clients": clients,
        "duration_s": duration,
        "warmup_s": warmup,
        "requests": len(latencies),
        "ok": ok,
        "rps": round(ok / duration, 2),
        "p50_ms": round(percentile(latencies, 50), 2) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 2) if latencies else None,
        "statuses": dict(load.statuses),
        "errors": dict(load.errors),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--url", required=True, help="the API's base URL, e.g. http://127.0.0.1:3000/v1")
    parser.add_argument("--token", default=None)
    parser.add_argument("--op", choices=("get_payment", "process_payment"), required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args(argv)
    result = run(
        args.url, args.token, op=args.op, clients=args.clients, duration=args.duration, warmup=args.warmup
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
