"""Stripe's balance transactions and payouts over the official SDK, read for reconciliation.

Every list is read to its end with the SDK's auto-paging, each transaction with its source expanded
(`expand[]=data.source`): the charge, refund, dispute or payout, whose metadata names our payment (our
charges and refunds carry `payment_id`, our refunds `refund_id`). A source that names no payment of ours
(a refund made in the dashboard, a dispute) is asked about through its PaymentIntent, only when our books
do not hold it. Reads only: no idempotency keys, nothing created.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from payments.adapters.stripe.client import StripeAdapter
from payments.adapters.stripe.gateway import translate
from payments.adapters.stripe.objects import get, id_of, metadata_of, money
from payments.domain.reconciliation import BalanceTransaction, PayoutAtStripe

T = TypeVar("T")
PAGE_SIZE = 100  # Stripe's largest page
EXPAND = ["data.source"]


class StripeBalanceReader(StripeAdapter):
    def transactions(self, created_from: int, created_before: int) -> list[BalanceTransaction]:
        return self._list({"created": {"gte": created_from, "lt": created_before}})

    def payout(self, payout_id: str) -> PayoutAtStripe | None:
        import stripe

        try:
            payout = self._stripe.v1.payouts.retrieve(payout_id)
        except stripe.InvalidRequestError as error:
            if getattr(error, "code", None) == "resource_missing":
                return None
            raise translate(error) from error
        except stripe.StripeError as error:
            raise translate(error) from error
        return payout_of(payout)

    def payout_transactions(self, payout: PayoutAtStripe) -> list[BalanceTransaction]:
        """`?payout=` lists what an automatic payout paid out (Stripe refuses it for manual ones), with
        the payout's own line once Stripe reconciled it; `?source=` adds the payout's own lines (its
        creation, and a failure or cancellation that gave the money back)."""
        found = {t.id: t for t in self._list({"source": payout.id})}
        if payout.automatic:
            found.update({t.id: t for t in self._list({"payout": payout.id})})
        return sorted(found.values(), key=lambda t: (t.created, t.id))

    def payment_id_of_intent(self, intent_id: str) -> str | None:
        intent = self._call(lambda: self._stripe.v1.payment_intents.retrieve(intent_id))
        return metadata_of(intent).get("payment_id")

    def _list(self, params: dict[str, Any]) -> list[BalanceTransaction]:
        import stripe

        request = {**params, "limit": PAGE_SIZE, "expand": EXPAND}
        try:
            page = self._stripe.v1.balance_transactions.list(params=request)
            return [transaction_of(line) for line in _every(page)]
        except stripe.StripeError as error:  # any page: the list is read whole or not at all
            raise translate(error) from error

    def _call(self, call: Callable[[], T]) -> T:
        import stripe

        try:
            return call()
        except stripe.StripeError as error:
            raise translate(error) from error


def _every(page: Any) -> Iterable[Any]:
    pages: Iterable[Any] = page.auto_paging_iter()  # fetches the next page as the last one is consumed
    return pages


def transaction_of(line: Any) -> BalanceTransaction:
    """A balance transaction (SDK object or dict) in our terms; its money fields must be there."""
    source = get(line, "source")
    source_id = id_of(source)
    expanded = source if not isinstance(source, str) else None
    metadata = metadata_of(expanded)
    source_type = get(expanded, "object")
    intent = get(expanded, "payment_intent")
    return BalanceTransaction(
        id=str(get(line, "id")),
        type=str(get(line, "type")),
        currency=str(get(line, "currency")).lower(),
        amount=money(line, "amount"),
        fee=money(line, "fee"),
        net=money(line, "net"),
        created=int(get(line, "created") or 0),
        status=str(get(line, "status") or "available"),
        source_id=source_id,
        source_type=str(source_type) if source_type else None,
        payment_id=metadata.get("payment_id"),
        refund_id=metadata.get("refund_id") if source_type == "refund" else None,
        payment_intent_id=id_of(intent),
    )


def payout_of(payout: Any) -> PayoutAtStripe:
    line = get(payout, "balance_transaction")
    return PayoutAtStripe(
        id=str(get(payout, "id")),
        amount=money(payout, "amount"),
        currency=str(get(payout, "currency")).lower(),
        status=str(get(payout, "status")),
        automatic=bool(get(payout, "automatic")),
        created=int(get(payout, "created") or 0),
        reconciliation_status=get(payout, "reconciliation_status"),
        balance_transaction_id=id_of(line),
    )
