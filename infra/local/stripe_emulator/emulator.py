"""StripeEmulator: the object tests and the local stack start, inspect and steer."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from types import TracebackType

from infra.local.loopback import loopback_host

from .api import StripeApi
from .control import PREFIX, ControlApi
from .errors import invalid_request
from .faults import FaultInjector
from .idempotency import IdempotencyCache
from .model import SYSTEM, Obj, public
from .money import check_currency
from .params import Metadata
from .resources import (
    ROUTES,
    balance,
    charges,
    disputes,
    payment_intents,
    payments,
    payouts,
    radar,
    refunds,
    setup_intents,
)
from .resources.events import type_matches
from .routing import Router
from .server import EmulatorHTTPServer
from .store import SEARCHABLE, Settings, Store
from .webhooks import WebhookChaos, WebhookDispatcher
from .wire import HttpRequest, HttpResponse

_REVIEW_ACTIONS = ("approve", "refund", "refund_as_fraud")


class StripeEmulator:
    """A stateful, in-memory Stripe API on 127.0.0.1.

    `start()` serves in a daemon thread; use `url` as the SDK's `api` base address. The methods
    below the lifecycle ones read state (returning copies) or act as Stripe or a cardholder would.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_endpoints: Iterable[tuple[str, str]] = (),
        webhook_retry_delays: Sequence[float] = (1.0, 2.0, 5.0),
        *,
        webhook_chaos: WebhookChaos | int | None = None,
        async_balance_transactions: bool = False,
        search_lag: float = 0.0,
        pending_balance: bool = False,
        hold_payouts: bool = False,
    ) -> None:
        """`webhook_chaos`: a WebhookChaos (or just its seed) for every endpoint; see webhooks.py.
        `async_balance_transactions`: every capture leaves `balance_transaction` null until
        settled, not only `automatic_async` ones. `search_lag`: seconds before a change is searchable.
        `pending_balance`: charges' balance transactions stay `pending` (not paid out) until
        `make_balance_available()`. `hold_payouts`: automatic payouts wait for `pay_payout()`.
        """
        self._host, self._port = loopback_host(host), port
        chaos = WebhookChaos(seed=webhook_chaos) if isinstance(webhook_chaos, int) else webhook_chaos
        settings = Settings(
            async_balance_transactions=async_balance_transactions,
            pending_balance=pending_balance,
            hold_payouts=hold_payouts,
        )
        self._initial = (chaos, settings, search_lag)  # what reset() returns to
        self._dispatcher = WebhookDispatcher(webhook_retry_delays, self._webhook_delivered, chaos)
        self._store = Store(self._dispatcher, dataclasses.replace(settings))
        self._store.search_index.set_lag(search_lag, [])
        self._faults = FaultInjector()
        self._idempotency = IdempotencyCache()
        self._api = StripeApi(self._store, Router(ROUTES), self._faults, self._idempotency, lambda: self.url)
        self._control = ControlApi(self)
        self._server: EmulatorHTTPServer | None = None
        self._stopped = False
        for url, secret in webhook_endpoints:
            self.add_webhook_endpoint(url, secret)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> StripeEmulator:
        """Bind (raises OSError if the port is taken) and serve in a daemon thread."""
        if self._server is not None or self._stopped:
            raise RuntimeError("a StripeEmulator can only be started once")
        self._server = EmulatorHTTPServer(self._host, self._port, self._dispatch)
        self._dispatcher.start()
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and delivering webhooks; joins both threads. Pending deliveries are dropped."""
        server = self._server
        if server is None or self._stopped:
            return
        self._stopped = True
        self._faults.release_held()
        server.stop()
        self._dispatcher.stop()

    def __enter__(self) -> StripeEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Stripe emulator is not started")
        return self._server.url

    def reset(self) -> None:
        """Forget all objects, events, idempotency keys, faults and undelivered webhooks.

        Webhook endpoints are configuration, not state, and stay registered. Settings and webhook
        chaos go back to the constructor's (chaos re-seeded), so a test changing them does not leak
        into the next one. Requests waiting in a `hold` fault are released.
        """
        chaos, settings, search_lag = self._initial
        with self._store.lock:
            self._store.reset()
            self._store.settings = dataclasses.replace(settings)
            self._store.search_index.set_lag(0, [])
            self._store.search_index.set_lag(search_lag, [])
            self._idempotency.clear()
            self._faults.clear()
            self._dispatcher.clear()
            self._dispatcher.set_chaos(chaos)

    # -- configuration ---------------------------------------------------------------------------

    def add_webhook_endpoint(self, url: str, secret: str) -> None:
        self._dispatcher.add_endpoint(url, secret)

    def inject_fault(
        self,
        method: str = "POST",
        path_prefix: str = "/v1/payment_intents",
        kind: str = "api_error",
        times: int = 1,
        when: str = "before",
    ) -> None:
        """Fail the next `times` matching API requests: `rate_limit` (429), `api_error` (500; with
        `when="after"` the request executes first and the 500 is saved for its idempotency key),
        `disconnect` (closed without a response, not executed), `drop_response` (executed and saved,
        then closed without a response) or `hold` (waits until `release_held()`)."""
        self._faults.add(method, path_prefix, kind, times, when)

    def wait_for_held(self, count: int = 1, timeout: float = 5.0) -> bool:
        """True once `count` requests are waiting in a `hold` fault, False on timeout."""
        return self._faults.wait_for_held(count, timeout)

    def release_held(self) -> int:
        """Let every held request go on; returns how many there were."""
        return self._faults.release_held()

    def set_webhook_chaos(self, chaos: WebhookChaos | int | None, url: str | None = None) -> None:
        """Reorder, duplicate and delay deliveries (None: back to in-order, once each).

        For the endpoint with that `url`, or for every endpoint (present and future) by default.
        Setting it re-seeds, so the same seed gives the same shuffle for the same events.
        """
        self._dispatcher.set_chaos(WebhookChaos(seed=chaos) if isinstance(chaos, int) else chaos, url)

    def webhook_chaos(self) -> list[Obj]:
        """Each endpoint's URL and chaos setting (None when off)."""
        return self._dispatcher.chaos()

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        """True once every queued delivery is done (delivered or given up), False on timeout.

        Delayed and duplicated deliveries of chaos mode count until they are sent.
        """
        return self._dispatcher.wait_idle(timeout)

    def settings(self) -> Obj:
        with self._store.lock:
            return {**dataclasses.asdict(self._store.settings), "search_lag": self._store.search_index.lag}

    def update_settings(
        self,
        *,
        async_balance_transactions: bool | None = None,
        search_lag: float | None = None,
        pending_balance: bool | None = None,
        hold_payouts: bool | None = None,
        review_elevated_risk: bool | None = None,
        block_highest_risk: bool | None = None,
    ) -> Obj:
        """Change behaviour at run time; what is not given stays. Returns the settings.
        `review_elevated_risk` and `block_highest_risk` are Radar's default rules (resources/radar.py)."""
        switches = {
            "async_balance_transactions": async_balance_transactions,
            "pending_balance": pending_balance,
            "hold_payouts": hold_payouts,
            "review_elevated_risk": review_elevated_risk,
            "block_highest_risk": block_highest_risk,
        }
        with self._store.transaction():
            for name, value in switches.items():
                if value is not None:
                    setattr(self._store.settings, name, value)
            if search_lag is not None:
                objects = [obj for kind in SEARCHABLE for obj in self._store.all(kind)]
                self._store.search_index.set_lag(search_lag, objects)
        return self.settings()

    def index_search(self) -> None:
        """Make every object searchable as it is now, whatever the search lag."""
        with self._store.lock:
            objects = [obj for kind in SEARCHABLE for obj in self._store.all(kind)]
            self._store.search_index.index_now(objects)

    def forget_idempotency_keys(self, prefix: str = "") -> int:
        """Forget saved idempotency keys (those starting with `prefix`), as Stripe does after 24
        hours; a forgotten key executes again. Returns how many were forgotten."""
        return self._idempotency.forget(prefix)

    # -- state -----------------------------------------------------------------------------------

    def get(self, object_id: str) -> Obj | None:
        with self._store.lock:
            found = self._store.find(object_id)
            return public(found) if found is not None else None

    def events(self, type: str | None = None) -> list[Obj]:
        """Every event, oldest first; `type` may end in `*` (`charge.dispute.*`)."""
        return [event for event in self._all("event") if type is None or type_matches(event["type"], type)]

    def customers(self) -> list[Obj]:
        return self._all("customer")

    def payment_methods(self) -> list[Obj]:
        return self._all("payment_method")

    def payment_intents(self) -> list[Obj]:
        return self._all("payment_intent")

    def setup_intents(self) -> list[Obj]:
        return self._all(setup_intents.SETUP_INTENT)

    def charges(self) -> list[Obj]:
        return self._all("charge")

    def refunds(self) -> list[Obj]:
        return self._all("refund")

    def disputes(self) -> list[Obj]:
        return self._all("dispute")

    def balance_transactions(self) -> list[Obj]:
        return self._all("balance_transaction")

    def reviews(self) -> list[Obj]:
        """Every Radar review, open or closed (`GET /v1/reviews` lists only the open ones)."""
        return self._all("review")

    def early_fraud_warnings(self) -> list[Obj]:
        return self._all(radar.EARLY_FRAUD_WARNING)

    def payouts(self) -> list[Obj]:
        return self._all("payout")

    def balance(self) -> Obj:
        """What `GET /v1/balance` answers: available and pending amounts per currency."""
        with self._store.lock:
            return balance.balance(self._store)

    # -- actions Stripe, the bank or the cardholder take ----------------------------------------

    def authenticate_payment_intent(self, payment_intent_id: str, succeed: bool = True) -> Obj:
        """Complete (or fail) the 3-D Secure challenge of a PaymentIntent in `requires_action`."""
        with self._store.transaction():
            intent = self._store.get("payment_intent", payment_intent_id, param="payment_intent")
            payments.authenticate(self._store, intent, succeed=succeed, origin=SYSTEM, base_url=self.url)
            return public(intent)

    def authenticate_setup_intent(self, setup_intent_id: str, succeed: bool = True) -> Obj:
        """Complete (or fail) the 3-D Secure challenge of a SetupIntent in `requires_action`."""
        with self._store.transaction():
            intent = self._store.get(setup_intents.SETUP_INTENT, setup_intent_id, param="setup_intent")
            setup_intents.authenticate(self._store, intent, succeed=succeed, origin=SYSTEM)
            return public(intent)

    def authenticate(self, intent_id: str, succeed: bool = True) -> Obj:
        """The 3-D Secure challenge of a PaymentIntent (`pi_`) or a SetupIntent (`seti_`)."""
        if intent_id.startswith("seti_"):
            return self.authenticate_setup_intent(intent_id, succeed)
        return self.authenticate_payment_intent(intent_id, succeed)

    def expire_authorization(self, payment_intent_id: str) -> Obj:
        """The authorization of a PaymentIntent in `requires_capture` runs out uncaptured (Stripe: about
        7 days for cards): released, canceled with `cancellation_reason: automatic`."""
        with self._store.transaction():
            intent = self._store.get("payment_intent", payment_intent_id, param="payment_intent")
            payments.expire(self._store, intent, SYSTEM)
            return public(intent)

    def create_dispute(self, charge_or_payment_intent_id: str, reason: str = "fraudulent") -> Obj:
        """Open a dispute on a captured charge (or a PaymentIntent's latest charge)."""
        if reason not in disputes.REASONS:
            reasons = ", ".join(disputes.REASONS)
            raise invalid_request(f"Invalid reason: must be one of {reasons}", param="reason")
        with self._store.transaction():
            charge = self._charge(charge_or_payment_intent_id)
            return public(disputes.open_dispute(self._store, charge, reason, SYSTEM))

    def close_dispute(self, dispute_id: str, won: bool) -> Obj:
        with self._store.transaction():
            dispute = self._store.get("dispute", dispute_id, param="dispute")
            disputes.close(self._store, dispute, won=won, origin=SYSTEM)
            return public(dispute)

    def close_review(self, review_id: str, action: str = "approve") -> Obj:
        """Close an open Radar review as the dashboard does: `approve`, `refund` (the charge's
        remainder) or `refund_as_fraud` (reason `fraudulent`); a refund closes it as `refunded` or
        `refunded_as_fraud`. Returns the review."""
        if action not in _REVIEW_ACTIONS:
            raise invalid_request(
                f"Invalid action: must be one of {', '.join(_REVIEW_ACTIONS)}", param="action"
            )
        with self._store.transaction():
            review = self._store.get("review", review_id, param="review")
            if action == "approve" or not review["open"]:  # a closed review answers Stripe's error
                radar.close_review(self._store, review, "approved", SYSTEM)
            else:
                params: Obj = {"charge": review["charge"]}
                if action == "refund_as_fraud":
                    params["reason"] = "fraudulent"
                refunds.dashboard_refund(self._store, params)
            return public(review)

    def create_early_fraud_warning(
        self, charge_or_payment_intent_id: str, fraud_type: str = radar.TEST_CARD_FRAUD_TYPE
    ) -> Obj:
        """The issuer reports a succeeded charge (or a PaymentIntent's latest charge) as likely fraud:
        `radar.early_fraud_warning.created`, actionable unless the charge is disputed or fully
        refunded. Returns the EarlyFraudWarning."""
        if fraud_type not in radar.FRAUD_TYPES:
            types = ", ".join(radar.FRAUD_TYPES)
            raise invalid_request(f"Invalid fraud_type: must be one of {types}", param="fraud_type")
        with self._store.transaction():
            charge = self._charge(charge_or_payment_intent_id)
            return public(radar.warn(self._store, charge, fraud_type, SYSTEM))

    def settle_balance_transactions(self, charge_or_payment_intent_id: str | None = None) -> list[Obj]:
        """Finish asynchronous captures: each pending charge (or just this one, or a PaymentIntent's
        latest charge) gets its balance transaction and a `charge.updated` event. Returns the charges.
        """
        with self._store.transaction():
            if charge_or_payment_intent_id is None:
                pending = [
                    charge for charge in self._store.all("charge") if charges.settlement_pending(charge)
                ]
            else:
                pending = [self._charge(charge_or_payment_intent_id)]
            for charge in pending:
                charges.settle(self._store, charge, SYSTEM)
            return [public(charge) for charge in pending]

    def fail_refund(self, refund_id: str) -> Obj:
        """A pending (or succeeded) refund fails; its amount goes back on the charge."""
        with self._store.transaction():
            refund = self._store.get("refund", refund_id, param="refund")
            refunds.fail(self._store, refund, SYSTEM)
            return public(refund)

    def succeed_refund(self, refund_id: str) -> Obj:
        """A pending refund settles."""
        with self._store.transaction():
            refund = self._store.get("refund", refund_id, param="refund")
            refunds.settle(self._store, refund, SYSTEM)
            return public(refund)

    def make_balance_available(self, balance_transaction_id: str | None = None) -> list[Obj]:
        """Pending balance transactions (all, or this one) become available, so the next payout
        includes them; emits `balance.available` when anything changed. Returns those that moved."""
        with self._store.transaction():
            if balance_transaction_id is None:
                lines = self._store.all("balance_transaction")
            else:
                line = self._store.get("balance_transaction", balance_transaction_id, param="id")
                if line["status"] != "pending":
                    raise invalid_request(
                        f"Balance transaction {line['id']} is already available.", param="id"
                    )
                lines = [line]
            return [public(line) for line in balance.make_available(self._store, lines, SYSTEM)]

    # -- payouts ---------------------------------------------------------------------------------

    def run_payouts(self, currency: str | None = None) -> list[Obj]:
        """Stripe's payout schedule, now: an automatic payout of the whole available balance of
        each currency (or just `currency`) where it is positive, paid at once unless `hold_payouts`.
        Returns the payouts made (none when there is nothing to pay out)."""
        with self._store.transaction():
            return [public(payout) for payout in payouts.run(self._store, currency, SYSTEM)]

    def pay_payout(self, payout_id: str) -> Obj:
        """A pending or in_transit payout reaches the bank: `payout.updated` (in_transit),
        `payout.paid`, and for an automatic one `payout.reconciliation_completed`."""
        with self._store.transaction():
            payout = self._store.get("payout", payout_id, param="payout")
            payouts.pay(self._store, payout, SYSTEM)
            return public(payout)

    def fail_payout(self, payout_id: str, failure_code: str = "account_closed") -> Obj:
        """The bank returns a payout (also a paid one): `payout.failed`, and a `payout_failure`
        balance transaction puts the amount back into the available balance."""
        if failure_code not in payouts.FAILURES:
            raise invalid_request(
                f"Invalid failure_code: must be one of {', '.join(payouts.FAILURES)}", param="failure_code"
            )
        with self._store.transaction():
            payout = self._store.get("payout", payout_id, param="payout")
            payouts.fail(self._store, payout, failure_code, SYSTEM)
            return public(payout)

    # -- what reconciliation has to catch --------------------------------------------------------

    def direct_charge(
        self, amount: int, currency: str = "usd", metadata: dict[str, str] | None = None
    ) -> Obj:
        """A payment made at Stripe, not through the service (dashboard, another integration): a
        succeeded PaymentIntent whose charge has a balance transaction with a fee (unless asynchronous
        captures are on) and whose metadata is only what is given. Returns the PaymentIntent."""
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise invalid_request("`amount` must be an integer.", param="amount")
        metadata = Metadata().coerce(metadata or {}, "metadata")
        with self._store.transaction():
            intent = payment_intents.direct_payment(
                self._store, amount, check_currency(currency), metadata, self.url
            )
            return public(intent)

    def change_fee(self, balance_transaction_id: str, fee: int) -> Obj:
        """Stripe's fee differs from what the service booked: the balance transaction's `fee`,
        `fee_details` and `net` change, with no event. Refused once it is in a payout."""
        if isinstance(fee, bool) or not isinstance(fee, int) or fee < 0:
            raise invalid_request("`fee` must be an integer of 0 or more.", param="fee")
        with self._store.transaction():
            line = self._store.get("balance_transaction", balance_transaction_id, param="id")
            balance.change_fee(self._store, line, fee)
            return public(line)

    def dashboard_refund(
        self,
        charge_or_payment_intent_id: str,
        amount: int | None = None,
        *,
        reason: str | None = None,
        suppress_webhooks: bool = False,
    ) -> Obj:
        """A refund made in Stripe's dashboard, checked as `POST /v1/refunds` checks it. With
        `suppress_webhooks` its events (`refund.created`, `charge.refunded`) are recorded in
        `/v1/events` with `pending_webhooks: 0` but never delivered. Returns the refund."""
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount < 1):
            raise invalid_request("`amount` must be a positive integer.", param="amount")
        if reason is not None and reason not in refunds.REASONS:
            raise invalid_request(
                f"Invalid reason: must be one of {', '.join(refunds.REASONS)}", param="reason"
            )
        with self._store.transaction():
            by_intent = charge_or_payment_intent_id.startswith("pi_")
            params: Obj = {"payment_intent" if by_intent else "charge": charge_or_payment_intent_id}
            params.update({k: v for k, v in (("amount", amount), ("reason", reason)) if v is not None})
            if not suppress_webhooks:
                return public(refunds.dashboard_refund(self._store, params))
            with self._store.muted():
                return public(refunds.dashboard_refund(self._store, params))

    # -- internals -------------------------------------------------------------------------------

    def _charge(self, charge_or_payment_intent_id: str) -> Obj:
        """A charge, or a PaymentIntent's latest charge."""
        charge_id = charge_or_payment_intent_id
        target = self._store.find(charge_or_payment_intent_id)
        if target is not None and target["object"] == "payment_intent":
            if target["latest_charge"] is None:
                raise invalid_request(f"PaymentIntent {target['id']} has no charge.", param="payment_intent")
            charge_id = target["latest_charge"]
        return self._store.get("charge", charge_id, param="charge")

    def _all(self, kind: str) -> list[Obj]:
        with self._store.lock:
            return [public(obj) for obj in self._store.all(kind)]

    def _dispatch(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(PREFIX):
            return self._control.handle(request)
        return self._api.handle(request)

    def _webhook_delivered(self, event_id: str) -> None:
        self._store.webhook_delivered(event_id)
