"""Fixtures: one emulator per session (reset before each test) and the official SDK pointed at it."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import urlencode

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

API_KEY = "sk_test_emulator"


@pytest.fixture(scope="session")
def shared_emulator() -> Iterator[StripeEmulator]:
    emulator = StripeEmulator(port=0).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def emu(shared_emulator: StripeEmulator) -> StripeEmulator:
    shared_emulator.reset()
    return shared_emulator


def make_client(emulator: StripeEmulator) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": emulator.url}, max_network_retries=0)


@pytest.fixture
def client(emu: StripeEmulator) -> stripe.StripeClient:
    return make_client(emu)


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(
    base_url: str,
    method: str,
    path: str,
    *,
    body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    api_key: str | None = API_KEY,
) -> RawResponse:
    """A request the SDK would never send (bad keys, hand-written forms), answered without raising."""
    all_headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    if api_key is not None:
        all_headers.setdefault("Authorization", f"Bearer {api_key}")
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(base_url + path, data=data, method=method, headers=all_headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as response:
            return RawResponse(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return RawResponse(error.code, dict(error.headers), error.read())


def control(emulator: StripeEmulator, path: str, payload: dict[str, Any] | None = None) -> RawResponse:
    """POST a JSON body to the control API."""
    body = json.dumps(payload or {})
    headers = {"Content-Type": "application/json"}
    return raw_request(emulator.url, "POST", f"/_emulator/{path}", body=body, headers=headers, api_key=None)


def form(params: dict[str, str]) -> str:
    return urlencode(params)


def pay(
    client: stripe.StripeClient, payment_method: str = "pm_card_visa", **params: Any
) -> stripe.PaymentIntent:
    """A confirmed PaymentIntent for 20.00 usd (or whatever `params` override)."""
    payload = {"amount": 2000, "currency": "usd", "payment_method": payment_method, "confirm": True, **params}
    return client.v1.payment_intents.create(params=cast("stripe.params.PaymentIntentCreateParams", payload))


def as_dict(obj: stripe.StripeObject | None) -> dict[str, Any]:
    """A nested StripeObject (metadata, ...) as a plain dict."""
    assert obj is not None
    return obj.to_dict()


@dataclass
class Receiver:
    """A tiny webhook endpoint: records every delivery and answers with scripted status codes."""

    statuses: list[int] = field(default_factory=list)  # consumed first; 200 afterwards
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    def respond(self, headers: dict[str, str], body: bytes) -> int:
        self.deliveries.append((headers, body))
        return self.statuses.pop(0) if self.statuses else 200

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.deliveries]


@contextmanager
def serve_receiver() -> Iterator[Receiver]:
    """Run a Receiver on 127.0.0.1 for the duration of the block."""
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                status = state.respond(dict(self.headers), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/webhooks/stripe"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as state:
        yield state
