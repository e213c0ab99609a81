"""Webhook delivery: every event POSTed, signed as Stripe signs, to every configured endpoint.

Each endpoint has its own worker thread and FIFO queue, so events reach an endpoint in creation
order and a slow or failing endpoint delays only itself. A failed attempt (non-2xx or connection
error) is retried after each of `retry_delays`, then given up. API requests only enqueue.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .model import Obj
from .wire import encode_json

log = logging.getLogger("stripe_emulator.webhooks")

_TIMEOUT = 5.0


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """`Stripe-Signature`: `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed by the secret>`."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Stripe treats a redirect as a failed delivery instead of following it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# No proxies from the environment: endpoints are local and must be reached directly.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


@dataclass(frozen=True)
class _Delivery:
    event_id: str
    event_type: str
    payload: bytes


class _Outstanding:
    """Counts queued and in-flight deliveries so callers can wait for the queues to drain."""

    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()

    def add(self, count: int) -> None:
        with self._changed:
            self._count += count
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._count == 0, timeout)


class _EndpointWorker:
    def __init__(
        self,
        url: str,
        secret: str,
        retry_delays: Sequence[float],
        outstanding: _Outstanding,
        on_delivered: Callable[[str], None],
    ) -> None:
        self.url = url
        self._secret = secret
        self._retry_delays = tuple(retry_delays)
        self._outstanding = outstanding
        self._on_delivered = on_delivered
        self._queue: deque[_Delivery] = deque()
        self._wakeup = threading.Condition()
        self._stopping = False
        self._generation = 0  # bumped by clear() to abandon the delivery in flight
        self._thread = threading.Thread(target=self._run, name=f"stripe-webhooks {url}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def enqueue(self, delivery: _Delivery) -> None:
        with self._wakeup:
            self._queue.append(delivery)
            self._outstanding.add(1)
            self._wakeup.notify()

    def clear(self) -> None:
        with self._wakeup:
            self._outstanding.add(-len(self._queue))
            self._queue.clear()
            self._generation += 1
            self._wakeup.notify()

    def stop(self) -> None:
        with self._wakeup:
            self._stopping = True
            self._wakeup.notify()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._wakeup:
                self._wakeup.wait_for(lambda: self._queue or self._stopping)
                if self._stopping:
                    return
                delivery, generation = self._queue.popleft(), self._generation
            try:
                self._deliver(delivery, generation)
            finally:
                self._outstanding.add(-1)

    def _deliver(self, delivery: _Delivery, generation: int) -> None:
        delays = (0.0, *self._retry_delays)
        for attempt, delay in enumerate(delays, start=1):
            if delay and self._interrupted_during(delay, generation):
                return
            if self._attempt(delivery, attempt):
                self._on_delivered(delivery.event_id)
                return
        log.warning(
            "webhook %s %s -> %s: giving up after %d attempts",
            delivery.event_id,
            delivery.event_type,
            self.url,
            len(delays),
        )

    def _interrupted_during(self, delay: float, generation: int) -> bool:
        """Sleep before a retry; cut short (True) by stop() or clear()."""
        with self._wakeup:
            return self._wakeup.wait_for(
                lambda: self._stopping or self._generation != generation, timeout=delay
            )

    def _attempt(self, delivery: _Delivery, attempt: int) -> bool:
        # Endpoint URLs come from the emulator's own configuration, not from API callers.
        request = urllib.request.Request(  # noqa: S310
            self.url,
            data=delivery.payload,
            method="POST",
            headers={
                "Accept": "*/*; q=0.5, application/xml",
                "Cache-Control": "no-cache",
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": signature_header(delivery.payload, self._secret, int(time.time())),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )
        try:
            with _OPENER.open(request, timeout=_TIMEOUT) as response:
                status: int | str = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (OSError, ValueError) as error:  # refused, reset, timed out, malformed URL
            status = f"error ({error})"
        delivered = isinstance(status, int) and 200 <= status < 300
        log.info(
            "webhook %s %s -> %s: %s (attempt %d)",
            *(delivery.event_id, delivery.event_type, self.url, status, attempt),
        )
        return delivered


class WebhookDispatcher:
    """The emulator's EventSink: fans events out to endpoint workers."""

    def __init__(self, retry_delays: Sequence[float], on_delivered: Callable[[str], None]) -> None:
        self._retry_delays = tuple(retry_delays)
        self._on_delivered = on_delivered
        self._outstanding = _Outstanding()
        self._workers: list[_EndpointWorker] = []
        self._lock = threading.Lock()
        self._running = False  # events published before start() wait in the queues

    def start(self) -> None:
        with self._lock:
            self._running = True
            for worker in self._workers:
                worker.start()

    def add_endpoint(self, url: str, secret: str) -> None:
        worker = _EndpointWorker(url, secret, self._retry_delays, self._outstanding, self._on_delivered)
        with self._lock:
            self._workers.append(worker)
            if self._running:
                worker.start()

    def endpoint_count(self) -> int:
        with self._lock:
            return len(self._workers)

    def publish(self, event: Obj) -> None:
        delivery = _Delivery(event["id"], event["type"], encode_json(event))
        with self._lock:
            for worker in self._workers:
                worker.enqueue(delivery)

    def wait_idle(self, timeout: float) -> bool:
        return self._outstanding.wait_idle(timeout)

    def clear(self) -> None:
        """Drop undelivered events (the endpoints stay configured)."""
        with self._lock:
            for worker in self._workers:
                worker.clear()

    def stop(self) -> None:
        with self._lock:
            workers, self._workers, self._running = self._workers, [], False
        for worker in workers:
            worker.clear()
            worker.stop()
