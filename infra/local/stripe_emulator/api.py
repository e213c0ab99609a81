"""The `/v1` request pipeline: auth, faults, routing, decoding, validation, idempotency, execution."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable

from .errors import ApiError, invalid_request
from .expand import check_paths, expand
from .faults import FaultInjector, fault_error
from .forms import decode_form
from .idempotency import IdempotencyCache, SavedResponse, is_saved_status
from .ids import new_id
from .model import Obj, Origin, public
from .params import validate
from .routing import Call, Route, Router
from .store import API_VERSION, Store
from .wire import HttpRequest, HttpResponse, encode_json

_KEY_PREFIXES = ("sk_test_", "rk_test_")
_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization header, "
    "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#"
    "authentication for details, or we can help at https://support.stripe.com/."
)
_FORM = "application/x-www-form-urlencoded"


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
        if fault == "disconnect":
            return HttpResponse(0, disconnect=True)
        if fault is not None:
            raise fault_error(fault)
        route, path_ids = self._router.resolve(request.method, request.path)
        params = validate(_decode(request), route.fields)
        expand_paths: list[str] = params.get("expand") or []
        check_paths(route.result, expand_paths)
        key = request.headers.get("idempotency-key") if request.method in ("POST", "DELETE") else None
        origin = Origin(request_id, key)
        call = Call(self._store, params, path_ids, origin, self._base_url(), request.path)
        if key is None:
            with self._store.lock:
                status, body = self._execute(route, call, expand_paths, request_id)
            return HttpResponse(status, body)
        endpoint = f"{request.method} {request.path}"
        fingerprint = json.dumps(params, sort_keys=True)
        with self._store.lock:
            saved = self._idempotency.lookup(api_key, key, endpoint, fingerprint)
            if saved is not None:
                headers = {"Idempotent-Replayed": "true", "Original-Request": saved.request_id}
                return HttpResponse(saved.status, saved.body, {**headers, "Idempotency-Key": key})
            status, body = self._execute(route, call, expand_paths, request_id)
            if is_saved_status(status):
                saved = SavedResponse(endpoint, fingerprint, status, body, request_id)
                self._idempotency.save(api_key, key, saved)
        return HttpResponse(status, body, {"Idempotency-Key": key})

    def _execute(
        self, route: Route, call: Call, expand_paths: list[str], request_id: str
    ) -> tuple[int, bytes]:
        """Run the handler; errors raised from here on are results (and may be replayed)."""
        try:
            result: Obj = route.handler(call)
        except ApiError as error:
            return error.status, encode_json(error.body(request_id))
        return 200, encode_json(expand(public(result), expand_paths, self._store))


def _decode(request: HttpRequest) -> Obj:
    """Query-string parameters, overridden by form-encoded body parameters."""
    params = decode_form(request.query)
    if not request.body:
        return params
    content_type = request.headers.get("content-type", _FORM).split(";")[0].strip()
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
