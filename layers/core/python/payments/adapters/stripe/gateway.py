"""Stripe over the official SDK. Idempotency keys derive from our ids and the operation
(`pay_X:create`), so a retry anywhere gets Stripe's first answer back instead of a second charge.
Our ids travel in metadata so webhooks map back to our records without guessing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from payments.adapters.stripe.client import StripeAdapter
from payments.adapters.stripe.objects import get, id_of, metadata_of, money
from payments.application.ports import CancelReason
from payments.domain.card import Card
from payments.domain.errors import (
    CardDeclined,
    IntentStateChanged,
    PaymentsError,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
    RequestInProgress,
)
from payments.domain.payment import Failure, IntentSnapshot, Payment
from payments.domain.payment_method import SavedPaymentMethod, SetupSnapshot, StripePaymentMethod
from payments.domain.refund import Refund, StripeRefund
from payments.domain.risk import RadarOutcome

T = TypeVar("T")
API_VERSION_EXPAND = ["latest_charge.balance_transaction"]


def _create_key(payment: Payment) -> str:
    return f"{payment.id}:create"


def _intent_params(payment: Payment, *, confirm: bool) -> dict[str, Any]:
    params: dict[str, Any] = {
        "amount": payment.amount,
        "currency": payment.currency,
        "payment_method": payment.payment_method_id,
        "confirm": confirm,
        "capture_method": payment.capture_method,
        "metadata": {
            **payment.metadata,
            "payment_id": payment.id,
            "order_id": payment.order_id,
            "customer_id": payment.customer_id,
        },
        "expand": API_VERSION_EXPAND,
    }
    # Cards only, no redirects unless the client gave us somewhere to come back to.
    if payment.return_url:
        params["return_url"] = payment.return_url
        params["payment_method_types"] = ["card"]
    else:
        params["automatic_payment_methods"] = {"enabled": True, "allow_redirects": "never"}
    if payment.description:
        params["description"] = payment.description
    if payment.stripe_customer_id:
        params["customer"] = payment.stripe_customer_id
    if payment.off_session and confirm:
        # Merchant-initiated: Stripe declines (authentication_required) what would need the customer.
        params["off_session"] = True
    return params


class StripeGateway(StripeAdapter):
    # ------------------------------------------------------------------ payment intents

    def snapshot_of(self, intent: dict[str, Any]) -> IntentSnapshot:
        return intent_snapshot(intent)

    def create_intent(self, payment: Payment) -> IntentSnapshot:
        return self._intent_call(
            lambda: self._stripe.v1.payment_intents.create(
                params=_intent_params(payment, confirm=True),
                options={"idempotency_key": _create_key(payment)},
            )
        )

    def fence_intent(self, payment: Payment) -> IntentSnapshot | None:
        """Take the payment's create key at Stripe with an unconfirmed intent, so that the original
        request (same key, other parameters) can never charge from now on. None when the key was used
        already: the original request reached Stripe (Stripe refuses a key reused with other
        parameters, and replays an error it saved under it)."""
        import stripe

        try:
            return intent_snapshot(
                self._stripe.v1.payment_intents.create(
                    params=_intent_params(payment, confirm=False),
                    options={"idempotency_key": _create_key(payment)},
                )
            )
        except (stripe.IdempotencyError, stripe.APIError):
            return None
        except stripe.StripeError as error:
            raise translate(error) from error

    def find_intents(self, payment: Payment) -> list[IntentSnapshot]:
        """Every PaymentIntent whose metadata names the payment, oldest first (Stripe's Search API:
        how a request finds its intent once Stripe forgot the idempotency key, ~24 hours)."""
        query = f"metadata['payment_id']:'{payment.id}'"
        found = self._call(
            lambda: self._stripe.v1.payment_intents.search(
                params={"query": query, "limit": 100, "expand": ["data.latest_charge.balance_transaction"]}
            )
        )
        intents = [intent_snapshot(intent) for intent in get(found, "data") or []]
        return sorted(intents, key=lambda intent: intent.created)

    def retrieve_intent(self, intent_id: str) -> IntentSnapshot:
        return self._intent_call(
            lambda: self._stripe.v1.payment_intents.retrieve(intent_id, params={"expand": API_VERSION_EXPAND})
        )

    def capture_intent(self, payment: Payment, amount: int) -> IntentSnapshot:
        """Capture `amount` of the authorization (Stripe releases the rest). The key names the amount:
        a retry replays Stripe's answer, a capture of another amount meets the captured intent."""
        intent_id = _require_intent(payment)
        return self._intent_call(
            lambda: self._stripe.v1.payment_intents.capture(
                intent_id,
                params={"amount_to_capture": amount, "expand": API_VERSION_EXPAND},
                options={"idempotency_key": f"{payment.id}:capture:{amount}"},
            )
        )

    def cancel_intent(
        self,
        payment: Payment,
        intent_id: str | None = None,
        reason: CancelReason = "requested_by_customer",
        round_: int = 0,
    ) -> IntentSnapshot:
        """Cancel the payment's intent (or `intent_id`, one that names the payment). The key names the
        payment's version (and the round of a decision that had to look again): a retry of one
        decision replays Stripe's answer, a later decision is a new request."""
        target = intent_id or _require_intent(payment)
        key = f"{payment.id}:cancel:{target}:v{payment.version}" + (f":r{round_}" if round_ else "")
        return self._intent_call(
            lambda: self._stripe.v1.payment_intents.cancel(
                target,
                params={"cancellation_reason": reason, "expand": API_VERSION_EXPAND},
                options={"idempotency_key": key},
            )
        )

    def refund_intent(self, payment: Payment, intent_id: str) -> None:
        """Give back everything a stray intent (one our books do not hold) captured; one refunded in
        full already (by someone else) counts as given back."""
        import stripe

        try:
            self._stripe.v1.refunds.create(
                params={
                    "payment_intent": intent_id,
                    "reason": "duplicate",
                    "metadata": {"payment_id": payment.id, "stray_intent": intent_id},
                },
                options={"idempotency_key": f"{payment.id}:stray-refund:{intent_id}"},
            )
        except stripe.InvalidRequestError as error:
            if getattr(error, "code", None) != "charge_already_refunded":
                raise translate(error) from error
        except stripe.StripeError as error:
            raise translate(error) from error

    def _intent_call(self, call: Callable[[], Any]) -> IntentSnapshot:
        import stripe

        try:
            return intent_snapshot(_once_key_is_free(call))
        except stripe.CardError as error:
            # A decline still leaves a PaymentIntent: keep its failure in our history.
            intent = (error.error and error.error.payment_intent) or None
            if intent is None:
                raise translate(error) from error
            return intent_snapshot(intent, failure=_failure_of(error))
        except stripe.StripeError as error:
            raise translate(error) from error

    # ------------------------------------------------------------------ refunds

    def create_refund(self, payment: Payment, refund: Refund) -> StripeRefund:
        params: dict[str, Any] = {
            "payment_intent": _require_intent(payment),
            "amount": refund.amount,
            "metadata": {
                **refund.metadata,
                "payment_id": payment.id,
                "refund_id": refund.id,
                "order_id": payment.order_id,
                "customer_id": payment.customer_id,
            },
        }
        if refund.reason:
            params["reason"] = refund.reason
        return refund_snapshot(
            self._call(
                lambda: self._stripe.v1.refunds.create(
                    params=params, options={"idempotency_key": f"{refund.id}:create"}
                )
            )
        )

    def find_refund(self, payment: Payment, refund: Refund) -> StripeRefund | None:
        """The Stripe refund our metadata names, listed by the payment's intent (lists, unlike search,
        are consistent at once): how a resumed refund finds what Stripe did once it forgot the key."""
        intent_id = _require_intent(payment)
        page = self._call(
            lambda: self._stripe.v1.refunds.list(params={"payment_intent": intent_id, "limit": 100})
        )
        for found in page.auto_paging_iter():
            if metadata_of(found).get("refund_id") == refund.id:
                return refund_snapshot(found)
        return None

    def payment_id_of_intent(self, intent_id: str) -> str | None:
        intent = self._call(lambda: self._stripe.v1.payment_intents.retrieve(intent_id))
        return metadata_of(intent).get("payment_id")

    # ------------------------------------------------------------------ customers, payment methods

    def create_customer(self, customer_id: str) -> str:
        customer = self._call(
            lambda: self._stripe.v1.customers.create(
                params={"metadata": {"customer_id": customer_id}},
                options={"idempotency_key": f"customer:{customer_id}:create"},
            )
        )
        return str(get(customer, "id"))

    def retrieve_payment_method(self, payment_method_id: str) -> StripePaymentMethod:
        return payment_method_snapshot(
            self._call(lambda: self._stripe.v1.payment_methods.retrieve(payment_method_id))
        )

    def attach_payment_method(self, payment_method_id: str, stripe_customer_id: str) -> StripePaymentMethod:
        return payment_method_snapshot(
            self._call(
                lambda: self._stripe.v1.payment_methods.attach(
                    payment_method_id,
                    params={"customer": stripe_customer_id},
                    options={"idempotency_key": f"{payment_method_id}:attach:{stripe_customer_id}"},
                )
            )
        )

    def detach_payment_method(self, payment_method_id: str) -> None:
        import stripe

        try:
            self._stripe.v1.payment_methods.detach(
                payment_method_id, options={"idempotency_key": f"{payment_method_id}:detach"}
            )
        except stripe.InvalidRequestError as error:
            # Refused because it is detached already (an earlier attempt) or gone: that is the goal.
            if self._attached_to_someone(payment_method_id):
                raise translate(error) from error
        except stripe.StripeError as error:
            raise translate(error) from error

    def set_up_off_session(self, method: SavedPaymentMethod) -> SetupSnapshot:
        import stripe

        params: dict[str, Any] = {
            "customer": method.stripe_customer_id,
            "payment_method": method.id,
            "confirm": True,
            "usage": "off_session",
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "metadata": {"customer_id": method.customer_id, "payment_method_id": method.id},
        }
        key = f"{method.id}:setup:{method.setup_intent_id or 'first'}"
        try:
            return setup_snapshot(
                _once_key_is_free(
                    lambda: self._stripe.v1.setup_intents.create(
                        params=params, options={"idempotency_key": key}
                    )
                )
            )
        except stripe.CardError as error:
            # The card was refused at setup: the SetupIntent is kept, with why.
            setup = (error.error and error.error.setup_intent) or None
            if setup is None:
                raise translate(error) from error
            return setup_snapshot(setup)
        except stripe.StripeError as error:
            raise translate(error) from error

    def retrieve_setup(self, setup_intent_id: str) -> SetupSnapshot:
        return setup_snapshot(self._call(lambda: self._stripe.v1.setup_intents.retrieve(setup_intent_id)))

    def _attached_to_someone(self, payment_method_id: str) -> bool:
        try:
            return self.retrieve_payment_method(payment_method_id).customer is not None
        except ProviderRejected:
            return False

    def _call(self, call: Callable[[], T]) -> T:
        import stripe

        try:
            return _once_key_is_free(call)
        except stripe.StripeError as error:
            raise translate(error) from error


# Stripe answers 409 while another request with the same idempotency key is running (ours: two requests
# of one payment, or two saves of one card, meet on one derived key). Wait for it, as the SDK's own
# retries would, then its saved answer is replayed; if it keeps running, the client is told to retry.
KEY_IN_USE_ATTEMPTS = 5
KEY_IN_USE_BACKOFF_SECONDS = 0.05


def _once_key_is_free(call: Callable[[], T]) -> T:
    import random
    import time

    import stripe

    for attempt in range(KEY_IN_USE_ATTEMPTS - 1):
        try:
            return call()
        except stripe.APIError as error:
            if getattr(error, "http_status", None) != 409:
                raise
        time.sleep(random.uniform(0, KEY_IN_USE_BACKOFF_SECONDS * 2**attempt))  # noqa: S311 - jitter
    return call()  # the last try: a 409 again is the caller's to translate


def refund_snapshot(refund: Any) -> StripeRefund:
    """Stripe Refund (SDK object or webhook dict) -> our snapshot."""
    return StripeRefund(
        id=str(get(refund, "id")),
        status=str(get(refund, "status")),
        amount=money(refund, "amount", required=True),
        currency=str(get(refund, "currency")),
        payment_intent_id=id_of(get(refund, "payment_intent")),
        reason=get(refund, "reason"),
        failure_reason=get(refund, "failure_reason"),
        metadata=metadata_of(refund),
    )


def payment_method_snapshot(method: Any) -> StripePaymentMethod:
    card = get(method, "card")
    return StripePaymentMethod(
        id=str(get(method, "id")),
        type=str(get(method, "type")),
        customer=id_of(get(method, "customer")),
        card=None if card is None else Card(**{name: get(card, name) for name in Card.model_fields}),
        iin=get(card, "iin"),
    )


def setup_snapshot(setup: Any) -> SetupSnapshot:
    """Stripe SetupIntent (SDK object or dict) -> our snapshot."""
    error = get(setup, "last_setup_error")
    next_action = get(setup, "next_action")
    return SetupSnapshot(
        id=str(get(setup, "id")),
        status=str(get(setup, "status")),
        client_secret=get(setup, "client_secret"),
        next_action=_plain(next_action) if next_action else None,
        failure_code=get(error, "code"),
        failure_message=get(error, "message"),
    )


def _require_intent(payment: Payment) -> str:
    if not payment.stripe_payment_intent_id:
        raise ProviderError("the payment has no PaymentIntent yet", payment_id=payment.id)
    return payment.stripe_payment_intent_id


def intent_snapshot(intent: Any, failure: Failure | None = None) -> IntentSnapshot:
    """Stripe PaymentIntent (SDK object or webhook dict) -> our snapshot."""
    charge = get(intent, "latest_charge")
    charge_id = charge if isinstance(charge, str) else get(charge, "id")
    balance = get(charge, "balance_transaction") if not isinstance(charge, str) else None
    fee = get(balance, "fee") if not isinstance(balance, str) else None
    last_error = get(intent, "last_payment_error")
    # A failed attempt keeps its error on the intent, also once we canceled it (see close_failed_attempt).
    if failure is None and last_error is not None and get(intent, "status") in FAILED_ATTEMPT_STATUSES:
        failure = Failure(
            code=get(last_error, "code") or "payment_failed",
            message=get(last_error, "message") or "The payment failed",
            decline_code=get(last_error, "decline_code"),
        )
    next_action = get(intent, "next_action")
    status = get(intent, "status")
    return IntentSnapshot(
        id=get(intent, "id"),
        status=status,
        amount_received=money(intent, "amount_received", required=status == "succeeded"),
        amount_capturable=money(intent, "amount_capturable", required=status == "requires_capture"),
        next_action=_plain(next_action) if next_action else None,
        client_secret=get(intent, "client_secret"),
        failure=failure,
        charge_id=charge_id,
        fee=int(fee) if fee is not None else None,
        created=int(get(intent, "created") or 0),
        cancellation_reason=get(intent, "cancellation_reason"),
        radar=radar_outcome(charge),
    )


def radar_outcome(charge: Any) -> RadarOutcome | None:
    """Stripe Radar's assessment on a charge (charge.outcome); None for a charge named by id only."""
    outcome = None if isinstance(charge, str) else get(charge, "outcome")
    if outcome is None:
        return None
    score = get(outcome, "risk_score")
    return RadarOutcome(
        risk_level=get(outcome, "risk_level"),
        risk_score=None if score is None else int(score),
        rule=id_of(get(outcome, "rule")),  # the rule's id, or the Rule when expanded
        outcome_type=get(outcome, "type"),
        seller_message=get(outcome, "seller_message"),
        network_status=get(outcome, "network_status"),
    )


FAILED_ATTEMPT_STATUSES = ("requires_payment_method", "canceled")


def _plain(obj: Any) -> Any:
    """Store plain JSON-able values only (SDK objects convert with to_dict)."""
    if hasattr(obj, "to_dict"):
        obj = obj.to_dict()
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


def _failure_of(error: Any) -> Failure:
    return Failure(
        code=getattr(error, "code", None) or "card_declined",
        message=getattr(error, "user_message", None) or "The card was declined",
        decline_code=(error.error and error.error.decline_code) or None,
    )


def translate(error: Exception) -> PaymentsError:
    """Stripe's errors in our terms. Never forwards Stripe's raw message for server-side faults."""
    import stripe

    if getattr(error, "http_status", None) == 409:
        return RequestInProgress(
            "a request with the same key is still running at the payment provider; retry"
        )
    if isinstance(error, stripe.RateLimitError):
        return RateLimited("the payment provider is rate limiting; retry with the same Idempotency-Key")
    if isinstance(error, stripe.APIConnectionError):
        return ProviderUnavailable(
            "the payment provider could not be reached; retry with the same Idempotency-Key"
        )
    if isinstance(error, stripe.CardError):
        # A decline without a PaymentIntent (e.g. when a card is attached): the bank said no.
        failure = _failure_of(error)
        return CardDeclined(failure.message, decline_code=failure.decline_code, failure_code=failure.code)
    if isinstance(error, stripe.InvalidRequestError):
        code = getattr(error, "code", None) or "invalid_request"
        param = _OUR_PARAM.get(getattr(error, "param", None) or "", getattr(error, "param", None))
        if code == "resource_missing" and param == "payment_method_id":
            return ProviderRejected("payment_method_invalid", "no such payment method", param=param)
        if code == "amount_too_small":
            return ProviderRejected(
                "amount_too_small", "the amount is below the provider's minimum", param="amount"
            )
        if code == "payment_intent_unexpected_state":
            return IntentStateChanged(
                "intent_state_changed", "the PaymentIntent changed at the provider", provider_code=code
            )
        return ProviderRejected(
            "invalid_request", "the payment provider refused the request", provider_code=code, param=param
        )
    return ProviderError("the payment provider failed; retry with the same Idempotency-Key")


# Stripe's parameter names in ours, where they differ (a refused parameter is named as the client sent it).
_OUR_PARAM = {"payment_method": "payment_method_id", "customer": "customer_id"}
