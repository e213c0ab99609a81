"""The `/v1` request pipeline: auth, faults, routing, decoding, validation, idempotency, execution."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable

from .errors import ApiError, api_error, invalid_request
from .expand import check_paths, expand
from .faults import Fault, FaultInjector, fault_error
from .forms import Upload, decode_form, decode_multipart
from .idempotency import IdempotencyCache, SavedResponse
from .ids import new_id
from .model import Obj, Origin, public
from .params import validate
from .routing import Call, Route, Router
from .store import API_VERSION, Store
from .wire import HttpRequest, HttpResponse, encode_json

_KEY_PREFIXES = ("sk_test_", "rk_test_", "pk_test_")
_PUBLISHABLE = "pk_test_"
# What a browser may do with a publishable key (Stripe.js): read and confirm an intent whose
# client_secret it holds, e.g. to bring a customer back on-session after an off-session decline.
_CLIENT_ROUTES = frozenset(
    {
        ("GET", "/v1/payment_intents/{intent}"),
        ("POST", "/v1/payment_intents/{intent}/confirm"),
        ("GET", "/v1/setup_intents/{intent}"),
        ("POST", "/v1/setup_intents/{intent}/confirm"),
    }
)
_PUBLISHABLE_KEY_REFUSED = (
    "This API call cannot be made with a publishable API key. Please use a secret API key. You can find "
    "a list of your API keys at https://dashboard.stripe.com/account/apikeys."
)
_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization header, "
    "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#"
    "authentication for details, or we can help at https://support.stripe.com/."
)
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"

log = logging.getLogger("stripe_emulator")


def authenticate(header: str | None) -> str:
    """The API key from `Authorization: Bearer <key>` (or Basic auth with the key as user name)."""
    scheme, _, credential = (header or "").partition(" ")
    key = credential.strip()
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(key, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            key = ""
    elif scheme.lower() != "bearer":
        key = ""
    if not key:
        raise ApiError(401, "invalid_request_error", _NO_KEY)
    if not key.startswith(_KEY_PREFIXES):
        shown = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else key
        raise ApiError(401, "invalid_request_error", f"Invalid API Key provided: {shown}")
    return key


class StripeApi:
    def __init__(
        self,
        store: Store,
        router: Router,
        faults: FaultInjector,
        idempotency: IdempotencyCache,
        base_url: Callable[[], str],
    ) -> None:
        self._store = store
        self._router = router
        self._faults = faults
        self._idempotency = idempotency
        self._base_url = base_url

    def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = new_id("req")
        try:
            response = self._handle(request, request_id)
        except ApiError as error:  # rejected before execution: never saved for idempotency
            response = HttpResponse(error.status, encode_json(error.body(request_id)))
        if response.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="Stripe"'
        response.headers.update(
            {
                "Cache-Control": "no-cache, no-store",
                "Content-Type": "application/json",
                "Request-Id": request_id,
                "Stripe-Version": request.headers.get("stripe-version") or API_VERSION,
            }
        )
        return response

    def _handle(self, request: HttpRequest, request_id: str) -> HttpResponse:
        api_key = authenticate(request.headers.get("authorization"))
        fault = self._faults.take(request.method, request.path)
        if fault is not None and fault.kind == "disconnect":
            return HttpResponse(0, disconnect=True)
        if fault is not None and fault.kind in ("rate_limit", "api_error") and fault.when == "before":
            raise fault_error(fault.kind)
        route, path_ids = self._router.resolve(request.method, request.path)
        params = validate(_decode(request), route.fields)
        if api_key.startswith(_PUBLISHABLE) or params.get("client_secret") is not None:
            self._check_client_secret(route, params, path_ids, publishable=api_key.startswith(_PUBLISHABLE))
        expand_paths: list[str] = params.get("expand") or []
        check_paths(route.result, expand_paths)
        key = request.headers.get("idempotency-key") if request.method in ("POST", "DELETE") else None
        origin = Origin(request_id, key)
        call = Call(self._store, params, path_ids, origin, self._base_url(), request.path)
        if key is None:
            if fault is not None and fault.kind == "hold":
                self._faults.hold()
            status, body = self._execute(route, call, expand_paths, request_id, fault)
            return _answer(status, body, {}, fault)
        endpoint = f"{request.method} {request.path}"
        fingerprint = json.dumps(params, sort_keys=True, default=_uploaded)
        saved = self._idempotency.begin(api_key, key, endpoint, fingerprint)
        if saved is not None:
            headers = {"Idempotent-Replayed": "true", "Original-Request": saved.request_id}
            return _answer(saved.status, saved.body, {**headers, "Idempotency-Key": key}, fault)
        response = None
        try:
            if fault is not None and fault.kind == "hold":
                self._faults.hold()  # in flight: the key is claimed, a concurrent retry gets a 409
            status, body = self._execute(route, call, expand_paths, request_id, fault)
            response = SavedResponse(endpoint, fingerprint, status, body, request_id)
        finally:
            self._idempotency.end(api_key, key, response)
        return _answer(status, body, {"Idempotency-Key": key}, fault)

    def _check_client_secret(
        self, route: Route, params: Obj, path_ids: dict[str, str], *, publishable: bool
    ) -> None:
        """A publishable key reaches only an intent whose client_secret it sends (checked before
        anything executes, so never saved for idempotency)."""
        if publishable and (route.method, route.template) not in _CLIENT_ROUTES:
            raise ApiError(403, "invalid_request_error", _PUBLISHABLE_KEY_REFUSED)
        intent = self._store.find(path_ids.get("intent", ""))
        if intent is None or params.get("client_secret") != intent.get("client_secret"):
            raise invalid_request(
                f"The client_secret provided does not match the client_secret associated with the "
                f"{'SetupIntent' if (intent or {}).get('object') == 'setup_intent' else 'PaymentIntent'}.",
                param="client_secret",
            )

    def _execute(
        self, route: Route, call: Call, expand_paths: list[str], request_id: str, fault: Fault | None
    ) -> tuple[int, bytes]:
        """Run the handler; everything it answers from here on is a result (saved and replayed)."""
        with self._store.transaction():
            try:
                result: Obj = route.handler(call)
                answer = 200, encode_json(expand(public(result), expand_paths, self._store))
            except ApiError as error:
                answer = error.status, encode_json(error.body(request_id))
            except Exception:  # an emulator bug after the endpoint started: a saved 500, as Stripe's
                log.exception("unhandled error in %s %s", route.method, route.template)
                crash = api_error("An unexpected error occurred in the Stripe emulator.")
                answer = 500, encode_json(crash.body(request_id))
        if fault is not None and fault.kind == "api_error":  # when="after": the changes are made
            answer = 500, encode_json(fault_error(fault.kind).body(request_id))
        return answer


def _answer(status: int, body: bytes, headers: dict[str, str], fault: Fault | None) -> HttpResponse:
    if fault is not None and fault.kind == "drop_response":
        return HttpResponse(0, disconnect=True)  # executed (and saved), but nobody hears about it
    if status >= 500:
        # The SDK honours this: a 500 from an executed request is saved, so a retry only replays it.
        headers = {**headers, "Stripe-Should-Retry": "false"}
    return HttpResponse(status, body, headers)


def _uploaded(value: object) -> object:
    """A file in the parameters, as idempotency compares it."""
    if isinstance(value, Upload):
        return value.fingerprint()
    raise TypeError(f"{type(value).__name__} is not a parameter value")


def _decode(request: HttpRequest) -> Obj:
    """Query-string parameters, overridden by form-encoded (or, for file uploads, multipart) body
    parameters."""
    params = decode_form(request.query)
    if not request.body:
        return params
    header = request.headers.get("content-type", _FORM)
    content_type = header.split(";")[0].strip()
    if content_type == _MULTIPART:
        return {**params, **decode_multipart(request.body, header)}
    if content_type != _FORM:
        raise invalid_request(
            f"Invalid request: unsupported Content-Type {content_type}. If error persists and you need "
            "assistance, please contact support@stripe.com."
        )
    try:
        body = request.body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise invalid_request("Invalid request: the body is not valid UTF-8.") from error
    return {**params, **decode_form(body)}
