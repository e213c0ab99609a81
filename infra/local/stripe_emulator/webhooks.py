"""Webhook delivery: every event POSTed, signed as Stripe signs, to every configured endpoint.

Each endpoint has its own worker thread and queue, so a slow or failing endpoint delays only
itself. A failed attempt (non-2xx or connection error) is retried after each of `retry_delays`,
then given up. API requests only enqueue.

Events are handed over in batches: everything one API request (or control action) emits is queued
at once when it finishes, the way Stripe sends events once a change is committed. By default an
endpoint receives its events in creation order. Chaos mode (`WebhookChaos`) drops that promise, as
Stripe does not make it: per endpoint and from a seeded generator, each delivery waits a random
delay, some are sent twice, and with `reorder` a batch goes out shuffled. The random draws are made
per delivery in publication order, so a seed gives the same shuffle for the same events.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
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
class WebhookChaos:
    """Out-of-order, duplicated and delayed delivery, reproducible from `seed`.

    `duplicates` is the probability (0 to 1) that a delivery is sent a second time; every delivery
    (duplicates included) waits a random delay of up to `max_delay_ms` before it is sent; `reorder`
    shuffles the deliveries of a batch and lets the delays overtake each other across batches.
    """

    seed: int
    duplicates: float = 0.3
    max_delay_ms: int = 200
    reorder: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError("seed must be an integer")
        if not 0.0 <= self.duplicates <= 1.0:
            raise ValueError("duplicates must be a probability between 0 and 1")
        if isinstance(self.max_delay_ms, bool) or not isinstance(self.max_delay_ms, int):
            raise ValueError("max_delay_ms must be an integer")
        if not 0 <= self.max_delay_ms <= 60_000:
            raise ValueError("max_delay_ms must be between 0 and 60000")

    def describe(self) -> Obj:
        return asdict(self)

    @classmethod
    def parse(cls, spec: str) -> WebhookChaos:
        """`7` or `seed=7,duplicates=0.3,max_delay_ms=200,reorder=true` (the CLI / env var form)."""
        spec = spec.strip()
        if spec.lstrip("-").isdigit():
            return cls(seed=int(spec))
        values: dict[str, str] = {}
        for part in filter(None, (item.strip() for item in spec.split(","))):
            name, separator, value = part.partition("=")
            if not separator:
                raise ValueError(f"expected name=value, got {part!r}")
            values[name.strip()] = value.strip()
        unknown = set(values) - {"seed", "duplicates", "max_delay_ms", "reorder"}
        if unknown:
            raise ValueError(f"unknown webhook chaos setting(s): {', '.join(sorted(unknown))}")
        if "seed" not in values:
            raise ValueError("webhook chaos needs a seed")
        reorder = values.get("reorder", "true").lower()
        if reorder not in ("true", "false"):
            raise ValueError("reorder must be true or false")
        try:
            return cls(
                seed=int(values["seed"]),
                duplicates=float(values.get("duplicates", cls.duplicates)),
                max_delay_ms=int(values.get("max_delay_ms", cls.max_delay_ms)),
                reorder=reorder == "true",
            )
        except ValueError as error:
            raise ValueError(f"invalid webhook chaos setting: {error}") from error


@dataclass(frozen=True)
class _Delivery:
    event_id: str
    event_type: str
    payload: bytes


@dataclass(order=True)
class _Scheduled:
    due: float  # time.monotonic() at which the delivery may be sent
    rank: float  # tie-break: publication order, or a random key when reordering
    delivery: _Delivery = field(compare=False)


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
        *,
        index: int,
        retry_delays: Sequence[float],
        outstanding: _Outstanding,
        on_delivered: Callable[[str], None],
    ) -> None:
        self.url = url
        self._secret = secret
        self._index = index  # position among the endpoints: part of the chaos seed
        self._retry_delays = tuple(retry_delays)
        self._outstanding = outstanding
        self._on_delivered = on_delivered
        self._queue: list[_Scheduled] = []  # a heap by (due, rank)
        self._sequence = itertools.count()
        self._wakeup = threading.Condition()
        self._stopping = False
        self._generation = 0  # bumped by clear() to abandon the delivery in flight
        self._delivered: set[str] = set()  # event ids already acknowledged (duplicates count once)
        self._chaos: WebhookChaos | None = None
        self._random = random.Random()
        self._last_due = 0.0
        self._thread = threading.Thread(target=self._run, name=f"stripe-webhooks {url}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def chaos(self) -> WebhookChaos | None:
        return self._chaos

    def set_chaos(self, chaos: WebhookChaos | None) -> None:
        with self._wakeup:
            self._chaos = chaos
            self._reseed()

    def _reseed(self) -> None:
        seed = self._chaos.seed if self._chaos else 0
        self._random = random.Random(f"stripe-emulator-webhook-chaos:{seed}:{self._index}")
        self._last_due = 0.0

    def enqueue(self, deliveries: Sequence[_Delivery]) -> None:
        """Queue one batch (what one request emitted), applying chaos if it is on."""
        now = time.monotonic()
        scheduled: list[_Scheduled] = []
        with self._wakeup:
            for delivery in deliveries:
                scheduled.extend(self._schedule(delivery, now))
            for item in scheduled:
                heapq.heappush(self._queue, item)
            self._outstanding.add(len(scheduled))
            self._wakeup.notify()

    def _schedule(self, delivery: _Delivery, now: float) -> list[_Scheduled]:
        chaos = self._chaos
        if chaos is None:
            return [_Scheduled(0.0, next(self._sequence), delivery)]
        # Always five draws per delivery, so the stream only depends on the events.
        rank, delay, copy, copy_rank, copy_delay = (self._random.random() for _ in range(5))
        spread = chaos.max_delay_ms / 1000
        copies = [(rank, delay)] + ([(copy_rank, copy_delay)] if copy < chaos.duplicates else [])
        scheduled = []
        for key, fraction in copies:
            due = now + fraction * spread
            if chaos.reorder:
                scheduled.append(_Scheduled(due, key, delivery))
            else:
                self._last_due = due = max(due, self._last_due)
                scheduled.append(_Scheduled(due, next(self._sequence), delivery))
        return scheduled

    def clear(self) -> None:
        with self._wakeup:
            self._outstanding.add(-len(self._queue))
            self._queue.clear()
            self._delivered.clear()
            self._generation += 1
            self._reseed()
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
                wait = self._queue[0].due - time.monotonic()
                if wait > 0:  # not due yet; an earlier one may be queued meanwhile
                    self._wakeup.wait(wait)
                    continue
                item, generation = heapq.heappop(self._queue), self._generation
            try:
                self._deliver(item.delivery, generation)
            finally:
                self._outstanding.add(-1)

    def _deliver(self, delivery: _Delivery, generation: int) -> None:
        delays = (0.0, *self._retry_delays)
        for attempt, delay in enumerate(delays, start=1):
            if delay and self._interrupted_during(delay, generation):
                return
            if self._attempt(delivery, attempt):
                self._acknowledged(delivery.event_id, generation)
                return
        log.warning(
            "webhook %s %s -> %s: giving up after %d attempts",
            delivery.event_id,
            delivery.event_type,
            self.url,
            len(delays),
        )

    def _acknowledged(self, event_id: str, generation: int) -> None:
        with self._wakeup:
            if generation != self._generation or event_id in self._delivered:
                return
            self._delivered.add(event_id)
        self._on_delivered(event_id)

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
    """The emulator's EventSink: collects each request's events and fans them out to the workers."""

    def __init__(
        self,
        retry_delays: Sequence[float],
        on_delivered: Callable[[str], None],
        chaos: WebhookChaos | None = None,
    ) -> None:
        self._retry_delays = tuple(retry_delays)
        self._on_delivered = on_delivered
        self._outstanding = _Outstanding()
        self._workers: list[_EndpointWorker] = []
        self._lock = threading.Lock()
        self._running = False  # events published before start() wait in the queues
        self._chaos = chaos  # for endpoints without a setting of their own
        self._batch_depth = 0
        self._batch: list[_Delivery] = []

    def start(self) -> None:
        with self._lock:
            self._running = True
            for worker in self._workers:
                worker.start()

    def add_endpoint(self, url: str, secret: str) -> None:
        with self._lock:
            worker = _EndpointWorker(
                url,
                secret,
                index=len(self._workers),
                retry_delays=self._retry_delays,
                outstanding=self._outstanding,
                on_delivered=self._on_delivered,
            )
            worker.set_chaos(self._chaos)
            self._workers.append(worker)
            if self._running:
                worker.start()

    def endpoint_count(self) -> int:
        with self._lock:
            return len(self._workers)

    def set_chaos(self, chaos: WebhookChaos | None, url: str | None = None) -> None:
        """Turn chaos on (or off with None) for one endpoint URL, or for all present and future ones."""
        with self._lock:
            targets = [worker for worker in self._workers if url is None or worker.url == url]
            if url is None:
                self._chaos = chaos
            elif not targets:
                raise ValueError(f"no webhook endpoint with the URL {url}")
        for worker in targets:
            worker.set_chaos(chaos)

    def chaos(self) -> list[Obj]:
        with self._lock:
            workers = list(self._workers)
        return [
            {"url": worker.url, "chaos": worker.chaos.describe() if worker.chaos else None}
            for worker in workers
        ]

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Hold back what is published inside (one request) and queue it as one batch at the end.

        Entered and left only under the store lock, so one thread at a time uses the counter.
        """
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0:
                deliveries, self._batch = self._batch, []
                self._fan_out(deliveries)

    def publish(self, event: Obj) -> None:
        delivery = _Delivery(event["id"], event["type"], encode_json(event))
        if self._batch_depth:
            self._batch.append(delivery)
        else:
            self._fan_out([delivery])

    def _fan_out(self, deliveries: list[_Delivery]) -> None:
        if not deliveries:
            return
        with self._lock:
            for worker in self._workers:
                worker.enqueue(deliveries)

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
