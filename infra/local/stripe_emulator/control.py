"""The control API under `/_emulator/`: what Stripe's dashboard or a cardholder would do.

No authentication, JSON in and out. Every action is also a method on StripeEmulator; this module
only translates HTTP to those calls (including the 3-D Secure page a browser is redirected to).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from .errors import ApiError, invalid_request
from .model import Obj
from .webhooks import WebhookChaos
from .wire import HttpRequest, HttpResponse, json_response

if TYPE_CHECKING:
    from .emulator import StripeEmulator  # which makes the ControlApi: imported for its type only

PREFIX = "/_emulator/"

_Action = Callable[[HttpRequest, Obj, tuple[str, ...]], HttpResponse]


def _text(body: Obj, name: str, *, choices: tuple[str, ...] = (), default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or (choices and value not in choices):
        expected = f"one of {', '.join(choices)}" if choices else "a string"
        raise invalid_request(f"`{name}` must be {expected}.", param=name)
    return value


def _optional_text(body: Obj, name: str) -> str | None:
    return None if body.get(name) is None else _text(body, name)


def _flag(body: Obj, name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise invalid_request(f"`{name}` must be true or false.", param=name)
    return value


def _number(body: Obj, name: str) -> float | None:
    value = body.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise invalid_request(f"`{name}` must be a number.", param=name)
    return value


def _html(status: int, title: str, content: str) -> HttpResponse:
    page = f"<!doctype html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>{content}"
    return HttpResponse(status, page.encode(), {"Content-Type": "text/html; charset=utf-8"})


class ControlApi:
    def __init__(self, controls: StripeEmulator) -> None:
        self._controls = controls
        self._routes: list[tuple[str, re.Pattern[str], _Action]] = [
            ("GET", re.compile(r"health"), self._health),
            ("POST", re.compile(r"reset"), self._reset),
            ("POST", re.compile(r"payment_intents/([^/]+)/authenticate"), self._authenticate),
            ("POST", re.compile(r"payment_intents/([^/]+)/expire"), self._expire_authorization),
            ("POST", re.compile(r"setup_intents/([^/]+)/authenticate"), self._authenticate_setup),
            ("GET", re.compile(r"3ds/([^/]+)"), self._three_d_secure),
            ("POST", re.compile(r"disputes"), self._open_dispute),
            ("POST", re.compile(r"disputes/([^/]+)/close"), self._close_dispute),
            ("POST", re.compile(r"refunds/([^/]+)/fail"), self._fail_refund),
            ("POST", re.compile(r"refunds/([^/]+)/succeed"), self._succeed_refund),
            ("POST", re.compile(r"webhook_endpoints"), self._add_webhook_endpoint),
            ("POST", re.compile(r"faults"), self._inject_fault),
            ("POST", re.compile(r"faults/release"), self._release_held),
            ("GET", re.compile(r"webhooks/chaos"), self._get_chaos),
            ("POST", re.compile(r"webhooks/chaos"), self._set_chaos),
            ("GET", re.compile(r"settings"), self._get_settings),
            ("POST", re.compile(r"settings"), self._update_settings),
            ("POST", re.compile(r"search/index"), self._index_search),
            ("POST", re.compile(r"idempotency/forget"), self._forget_idempotency),
            ("POST", re.compile(r"balance_transactions/settle"), self._settle),
            ("POST", re.compile(r"balance_transactions/make_available"), self._make_available),
            ("POST", re.compile(r"balance_transactions/([^/]+)/fee"), self._change_fee),
            ("POST", re.compile(r"payouts/run"), self._run_payouts),
            ("POST", re.compile(r"payouts/([^/]+)/pay"), self._pay_payout),
            ("POST", re.compile(r"payouts/([^/]+)/fail"), self._fail_payout),
            ("POST", re.compile(r"direct_charge"), self._direct_charge),
            ("POST", re.compile(r"refunds"), self._dashboard_refund),
            ("POST", re.compile(r"reviews/([^/]+)/close"), self._close_review),
            ("POST", re.compile(r"early_fraud_warnings"), self._early_fraud_warning),
        ]

    def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.path.removeprefix(PREFIX)
        try:
            for method, pattern, action in self._routes:
                match = pattern.fullmatch(path)
                if match and method == request.method:
                    return action(request, _json_body(request), match.groups())
            raise invalid_request(f"Unrecognized control URL ({request.method}: {request.path}).", status=404)
        except ApiError as error:
            return json_response(error.status, error.body())
        except ValueError as error:
            return json_response(400, invalid_request(str(error)).body())

    def _health(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        return json_response(200, {"status": "ok"})

    def _reset(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        self._controls.reset()
        return json_response(200, {"reset": True})

    def _authenticate(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        outcome = _text(body, "outcome", choices=("succeed", "fail"), default="succeed")
        return json_response(200, self._controls.authenticate_payment_intent(ids[0], outcome == "succeed"))

    def _authenticate_setup(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        outcome = _text(body, "outcome", choices=("succeed", "fail"), default="succeed")
        return json_response(200, self._controls.authenticate_setup_intent(ids[0], outcome == "succeed"))

    def _expire_authorization(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        return json_response(200, self._controls.expire_authorization(ids[0]))

    def _three_d_secure(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        """The page `next_action` points at: completes 3-D Secure and returns to the merchant."""
        intent_id = ids[0]
        outcome = parse_qs(request.query).get("outcome", [""])[0]
        if outcome not in ("succeed", "fail"):
            links = "".join(
                f'<p><a href="?outcome={choice}">{label}</a></p>'
                for choice, label in (("succeed", "Complete authentication"), ("fail", "Fail authentication"))
            )
            return _html(200, f"3D Secure test page for {intent_id}", links)
        before = self._controls.get(intent_id) or {}
        redirect = (before.get("next_action") or {}).get("redirect_to_url") or {}
        try:
            intent = self._controls.authenticate(intent_id, outcome == "succeed")
        except ApiError as error:
            return _html(error.status, "Authentication not possible", f"<p>{html.escape(error.message)}</p>")
        return_url = redirect.get("return_url")
        if not return_url:
            return _html(200, f"Authentication {outcome}ed", "<p>You can close this window.</p>")
        kind = str(intent["object"])  # payment_intent or setup_intent, as Stripe names the parameters
        query = urlencode(
            {
                kind: intent["id"],
                f"{kind}_client_secret": intent["client_secret"],
                "redirect_status": "failed" if intent["status"] == "requires_payment_method" else "succeeded",
            }
        )
        separator = "&" if "?" in return_url else "?"
        return HttpResponse(302, b"", {"Location": f"{return_url}{separator}{query}"})

    def _open_dispute(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        target = body.get("charge") or body.get("payment_intent")
        if not isinstance(target, str):
            raise invalid_request("Pass `charge` or `payment_intent`.", param="charge")
        reason = _text(body, "reason", default="fraudulent")
        return json_response(200, self._controls.create_dispute(target, reason))

    def _close_dispute(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        outcome = _text(body, "outcome", choices=("won", "lost"))
        return json_response(200, self._controls.close_dispute(ids[0], outcome == "won"))

    def _fail_refund(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        return json_response(200, self._controls.fail_refund(ids[0]))

    def _succeed_refund(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        return json_response(200, self._controls.succeed_refund(ids[0]))

    def _add_webhook_endpoint(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        url, secret = _text(body, "url"), _text(body, "secret")
        self._controls.add_webhook_endpoint(url, secret)
        return json_response(200, {"url": url})

    def _inject_fault(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        times = body.get("times", 1)
        if not isinstance(times, int):
            raise invalid_request("`times` must be an integer.", param="times")
        self._controls.inject_fault(
            method=_text(body, "method", default="POST"),
            path_prefix=_text(body, "path_prefix", default="/v1/payment_intents"),
            kind=_text(body, "kind"),
            times=times,
            when=_text(body, "when", choices=("before", "after"), default="before"),
        )
        return json_response(200, {"injected": body})

    def _release_held(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        return json_response(200, {"released": self._controls.release_held()})

    def _get_chaos(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        return json_response(200, {"endpoints": self._controls.webhook_chaos()})

    def _set_chaos(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        """`{"seed": 7, "duplicates": 0.3, "max_delay_ms": 200, "reorder": true}`, or
        `{"enabled": false}`; `url` limits it to one endpoint."""
        url = _optional_text(body, "url")
        if _flag(body, "enabled") is False:
            self._controls.set_webhook_chaos(None, url)
            return json_response(200, {"endpoints": self._controls.webhook_chaos()})
        unknown = set(body) - {"enabled", "url", "seed", "duplicates", "max_delay_ms", "reorder"}
        if unknown:
            raise invalid_request(f"Unknown chaos setting(s): {', '.join(sorted(unknown))}.")
        seed = body.get("seed")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise invalid_request("`seed` must be an integer.", param="seed")
        defaults = WebhookChaos(seed=seed)
        duplicates = _number(body, "duplicates")
        delay = body.get("max_delay_ms", defaults.max_delay_ms)
        if isinstance(delay, bool) or not isinstance(delay, int):
            raise invalid_request("`max_delay_ms` must be an integer.", param="max_delay_ms")
        reorder = _flag(body, "reorder")
        chaos = WebhookChaos(
            seed=seed,
            duplicates=defaults.duplicates if duplicates is None else float(duplicates),
            max_delay_ms=delay,
            reorder=defaults.reorder if reorder is None else reorder,
        )
        self._controls.set_webhook_chaos(chaos, url)
        return json_response(200, {"endpoints": self._controls.webhook_chaos()})

    def _get_settings(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        return json_response(200, self._controls.settings())

    def _update_settings(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        flags = (
            "async_balance_transactions",
            "pending_balance",
            "hold_payouts",
            "review_elevated_risk",
            "block_highest_risk",
        )
        unknown = set(body) - {*flags, "search_lag"}
        if unknown:
            raise invalid_request(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
        settings = self._controls.update_settings(
            search_lag=_number(body, "search_lag"), **{name: _flag(body, name) for name in flags}
        )
        return json_response(200, settings)

    def _index_search(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        self._controls.index_search()
        return json_response(200, {"indexed": True})

    def _forget_idempotency(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        forgotten = self._controls.forget_idempotency_keys(_text(body, "prefix", default=""))
        return json_response(200, {"forgotten": forgotten})

    def _settle(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        """All pending balance transactions, or those of `{"charge": ...}` / `{"payment_intent": ...}`."""
        target = _optional_text(body, "charge") or _optional_text(body, "payment_intent")
        settled = self._controls.settle_balance_transactions(target)
        return json_response(200, {"settled": settled})

    def _make_available(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        """Every pending balance transaction, or `{"id": "txn_..."}`."""
        moved = self._controls.make_balance_available(_optional_text(body, "id"))
        return json_response(200, {"available": moved})

    def _change_fee(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        return json_response(200, self._controls.change_fee(ids[0], _integer(body, "fee")))

    def _run_payouts(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        return json_response(200, {"payouts": self._controls.run_payouts(_optional_text(body, "currency"))})

    def _pay_payout(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        return json_response(200, self._controls.pay_payout(ids[0]))

    def _fail_payout(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        code = _text(body, "failure_code", default="account_closed")
        return json_response(200, self._controls.fail_payout(ids[0], code))

    def _direct_charge(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        """`{"amount": 2000, "currency": "usd", "metadata": {...}}`: a payment made at Stripe itself."""
        metadata = body.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise invalid_request("`metadata` must be an object.", param="metadata")
        intent = self._controls.direct_charge(
            _integer(body, "amount"), _text(body, "currency", default="usd"), metadata
        )
        return json_response(200, intent)

    def _dashboard_refund(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        """`{"payment_intent"|"charge": id, "amount"?, "reason"?, "suppress_webhooks"?}`."""
        target = _optional_text(body, "payment_intent") or _optional_text(body, "charge")
        if target is None:
            raise invalid_request("Pass `payment_intent` or `charge`.", param="payment_intent")
        refund = self._controls.dashboard_refund(
            target,
            None if body.get("amount") is None else _integer(body, "amount"),
            reason=_optional_text(body, "reason"),
            suppress_webhooks=bool(_flag(body, "suppress_webhooks")),
        )
        return json_response(200, refund)

    def _close_review(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        """`{"action": "approve" | "refund" | "refund_as_fraud"}` (default approve)."""
        action = _text(body, "action", choices=("approve", "refund", "refund_as_fraud"), default="approve")
        return json_response(200, self._controls.close_review(ids[0], action))

    def _early_fraud_warning(self, request: HttpRequest, body: Obj, ids: tuple[str, ...]) -> HttpResponse:
        """`{"charge"|"payment_intent": id, "fraud_type"?}`: the issuer warns of fraud on the charge."""
        target = _optional_text(body, "charge") or _optional_text(body, "payment_intent")
        if target is None:
            raise invalid_request("Pass `charge` or `payment_intent`.", param="charge")
        fraud_type = _text(body, "fraud_type", default="made_with_stolen_card")
        return json_response(200, self._controls.create_early_fraud_warning(target, fraud_type))


def _integer(body: Obj, name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_request(f"`{name}` must be an integer.", param=name)
    return value


def _json_body(request: HttpRequest) -> Obj:
    if not request.body.strip():
        return {}
    try:
        body: Any = json.loads(request.body)
    except ValueError as error:
        raise invalid_request(f"The body is not valid JSON: {error}") from error
    if not isinstance(body, dict):
        raise invalid_request("The body must be a JSON object.")
    return body
