"""RefundPayment with in-memory ports: a three-decimal currency (the Stripe emulator settles none),
Stripe's idempotency, and retries after lost races."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from payments.application import refund_payment as use_case
from payments.application.commit import Store
from payments.application.ports import RefundWrite
from payments.application.refund_payment import RefundPayment, refund_payment
from payments.domain.errors import ConcurrentUpdate, ValidationFailed
from payments.domain.events import DomainEvent
from payments.domain.payment import Change, Payment
from payments.domain.refund import Refund, RefundChanged, StripeRefund
from tests.support.payments import captured_payment


class Memory:
    """Payments and refunds with the store's conditions: payment version, refund status."""

    def __init__(self, payment: Payment) -> None:
        self.payments = {payment.id: payment}
        self.refunds: dict[str, Refund] = {}
        self.events: list[DomainEvent] = []
        self.lost_races = 0  # the next N payment saves lose their optimistic-lock race

    # PaymentRepository (the parts Store and the use case use)
    def get(self, payment_id: str) -> Payment | None:
        return self.payments.get(payment_id)

    def save(self, change: Change, refunds: Sequence[RefundWrite] = ()) -> None:
        if self.lost_races:
            self.lost_races -= 1
            raise ConcurrentUpdate("lost the race")
        assert self.payments[change.payment.id].version == change.payment.version - 1
        for write in refunds:
            self._check(write.refund, write.previous)
        self.payments[change.payment.id] = change.payment
        self.events.append(change.event)
        for write in refunds:
            self.refunds[write.refund.id] = write.refund

    def mark_published(self, events: Sequence[DomainEvent]) -> None:
        pass

    # RefundRepository
    def of_payment(self, payment_id: str) -> list[Refund]:
        return [r for r in self.refunds.values() if r.payment_id == payment_id]

    def save_alone(self, refund: Refund, previous: Refund) -> None:
        self._check(refund, previous)
        self.refunds[refund.id] = refund

    def _check(self, refund: Refund, previous: Refund | None) -> None:
        stored = self.refunds.get(refund.id)
        if (stored.status if stored else None) != (previous.status if previous else None):
            raise RefundChanged("refund changed")


class Refunds:
    """The RefundRepository face of Memory (its `get` takes two ids)."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    def get(self, payment_id: str, refund_id: str) -> Refund | None:
        return self.memory.refunds.get(refund_id)

    def with_payment(self, payment_id: str, refund_id: str) -> tuple[Payment | None, Refund | None]:
        return self.memory.get(payment_id), self.get(payment_id, refund_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.memory, name)


class Publisher:
    def publish(self, events: Sequence[DomainEvent]) -> None:
        pass


class StripeRefunds:
    """Stripe's refunds, keyed by idempotency key as Stripe keeps them."""

    def __init__(self) -> None:
        self.by_key: dict[str, StripeRefund] = {}

    def create_refund(self, payment: Payment, refund: Refund) -> StripeRefund:
        key = f"{refund.id}:create"
        if key not in self.by_key:
            self.by_key[key] = StripeRefund(
                id=f"re_{len(self.by_key)}",
                status="succeeded",
                amount=refund.amount,
                currency=refund.currency,
            )
        return self.by_key[key]

    def payment_id_of_intent(self, intent_id: str) -> str | None:
        return None


def kwd_payment() -> Payment:
    return captured_payment(
        id="pay_kwd",
        order_id="order-kwd",
        amount=1_000,  # 1.000 KWD
        amount_captured=1_000,
        currency="kwd",
        stripe_payment_intent_id="pi_1",
    )


@pytest.fixture
def world() -> tuple[Memory, Store, Refunds, StripeRefunds]:
    memory = Memory(kwd_payment())
    return memory, Store(memory, Publisher()), Refunds(memory), StripeRefunds()  # type: ignore[arg-type]


def command(amount: int | None, key: str) -> RefundPayment:
    return RefundPayment("pay_kwd", "admin", key, f"hash-{amount}", amount=amount)


def test_ten_twenty_thirty_fils_then_the_rest_in_a_three_decimal_currency(world):
    memory, store, refunds, stripe = world
    made = [refund_payment(command(amount, f"k{amount}"), store, refunds, stripe) for amount in (10, 20, 30)]
    with pytest.raises(ValidationFailed):
        refund_payment(command(15, "k15"), store, refunds, stripe)  # Stripe takes tens of fils only
    made.append(refund_payment(command(None, "rest"), store, refunds, stripe))

    assert [r.amount for r in made] == [10, 20, 30, 940]
    payment = memory.payments["pay_kwd"]
    assert (payment.status, payment.amount_refunded, payment.amount_refund_pending) == ("refunded", 1_000, 0)
    assert payment.amount_refunded == payment.amount_captured


def test_a_retry_with_the_same_key_refunds_once(world):
    memory, store, refunds, stripe = world
    first = refund_payment(command(100, "same"), store, refunds, stripe)
    again = refund_payment(command(100, "same"), store, refunds, stripe)
    assert again == first
    assert len(stripe.by_key) == 1
    assert memory.payments["pay_kwd"].amount_refunded == 100


def test_lost_races_are_read_again_and_retried(world, monkeypatch):
    memory, store, refunds, stripe = world
    monkeypatch.setattr(use_case, "_pause", lambda attempt: None)
    memory.lost_races = use_case.MAX_ATTEMPTS - 1
    made = refund_payment(command(100, "busy"), store, refunds, stripe)
    assert made.status == "succeeded"

    memory.lost_races = use_case.MAX_ATTEMPTS
    with pytest.raises(ConcurrentUpdate):
        refund_payment(command(100, "too-busy"), store, refunds, stripe)
    # Nothing was reserved by the attempt that gave up.
    assert (memory.payments["pay_kwd"].amount_refund_pending, memory.payments["pay_kwd"].amount_refunded) == (
        0,
        100,
    )
