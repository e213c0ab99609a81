"""The OpenAPI 3.1 document of the whole API, generated from the handlers' own resolvers and models.

`make openapi` (`python -m tools.openapi`) writes openapi.json (committed; tests/contract fails when it
drifts), `--check` only compares, `--stdout` prints it (the local gateway serves it live at
/v1/openapi.json).

Powertools' merge (`OpenAPIMerge`, the engine behind `APIGatewayRestResolver.configure_openapi_merge`)
discovers resolvers by reading the source for a literal `app = APIGatewayRestResolver(...)`; our handlers
build theirs with `api.create_app()`, which that scan cannot see. So the catalog names the files instead:
every API function whose app.py exists is added to the same merge, and the result is checked against the
catalog (each implemented route present, nothing outside it). A route served by a raw handler without a
resolver (Stripe's webhook, which must read its body byte for byte) is described from the catalog.

Then every operation gets every answer its route can give, each problem+json status with what it means
there: the gateway's (authorizer, body limits, throttling, timeouts, its own 5xx), the HTTP layer's and
the domain errors' (payments/domain/errors.py), decided by the route's shape in the catalog (authorizer,
admin only, command, body, path id, Stripe) and a few route-specific ones (ROUTE_ANSWERS). Commands get
the Idempotency-Key header (required on POST and PUT, optional on DELETE), Retry-After and Idempotent-Replayed
headers where they are sent, and a 204 has no body.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import tomllib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import catalog
from payments.http.problems import PROBLEM_JSON
from tools import ROOT

OUTPUT = ROOT / "openapi.json"
TITLE = "Payments API"
SECURITY_SCHEME = "cognito"
DESCRIPTION = (
    "Pay for orders, save cards and follow payments. Amounts are integers in the currency's minor unit; "
    "errors are RFC 9457 problem details (`application/problem+json`) with a machine-readable `code`. "
    "Every POST and PUT needs an `Idempotency-Key` header (except Stripe's webhook; a DELETE accepts one). "
    "Authenticate with a Cognito access token (`Authorization: Bearer <token>`): a person's from sign-in, "
    f"or a service's from the client-credentials flow (scope `{catalog.SERVICE_SCOPE}`); locally: "
    "`make token`. A customer pays an order with the order token the Order Service issued for it "
    "(`order_token`; locally: `make order-token`)."
)


class DocumentError(RuntimeError):
    """The generated document disagrees with the catalog."""


def implemented_routes(root: Path = ROOT) -> list[catalog.Function]:
    return [fn for fn in catalog.api_functions() if (root / "functions" / fn.name / "app.py").is_file()]


def build_document(root: Path = ROOT) -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

    merge = OpenAPIMerge(
        title=TITLE,
        version=_version(root),
        description=DESCRIPTION,
        servers=[
            Server(
                url=f"/{catalog.API_STAGE}", description="this API's stage (locally http://127.0.0.1:3000)"
            )
        ],
        security_schemes={
            SECURITY_SCHEME: HTTPBearer(
                bearerFormat="JWT",
                description="Cognito User Pool access token with one of the scopes "
                f"{', '.join(catalog.API_SCOPES)} (API Gateway's Cognito authorizer)",
            )
        },
        security=[{SECURITY_SCHEME: []}],
        on_conflict="error",
    )
    merge.discover(path=root / "functions", pattern="app.py", recursive=True, project_root=root)
    without_resolver = []
    for fn in implemented_routes(root):
        source = root / "functions" / fn.name / "app.py"
        if _defines_resolver(source):
            merge.add_file(source)
        else:
            without_resolver.append(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a handler that fails to import must fail the generation
        document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    for fn in without_resolver:
        _add_catalog_operation(document, fn)
    _problem_responses(document, root)
    _mark_open_routes(document)
    _check_against_catalog(document, root)
    return document


def _defines_resolver(source: Path) -> bool:
    """Whether app.py assigns a module-level `app` (its resolver); a raw handler has none."""
    tree = ast.parse(source.read_text(), filename=str(source))
    return any(
        isinstance(target, ast.Name) and target.id == "app"
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
    )


def _add_catalog_operation(document: dict[str, Any], fn: catalog.Function) -> None:
    """A route served by a raw handler (no resolver: Stripe's webhook), described from the catalog."""
    assert fn.route is not None
    operation: dict[str, Any] = {
        "summary": fn.description,
        "operationId": fn.name,
        "responses": {"200": {"description": "Accepted"}},
    }
    if not fn.route.authorizer:
        operation["tags"] = ["webhooks"]
        operation["parameters"] = [
            {"name": "Stripe-Signature", "in": "header", "required": True, "schema": {"type": "string"},
             "description": "Stripe's HMAC-SHA256 signature over the raw body"}
        ]  # fmt: skip
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object", "description": "A Stripe event, as sent"}}
            },
        }
        operation["responses"]["200"] = {
            "description": "Verified; forwarded to the bus, a repeat of one already forwarded, or a type "
            "no subscriber handles",
            "content": {"application/json": {"schema": WEBHOOK_RECEIPT_SCHEMA}},
        }
    document.setdefault("paths", {}).setdefault(fn.route.path, {})[fn.route.method.lower()] = operation


WEBHOOK_RECEIPT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["received", "id", "outcome"],
    "properties": {
        "received": {"type": "boolean", "const": True},
        "id": {"type": "string", "description": "Stripe's event id"},
        "outcome": {"type": "string", "enum": ["forwarded", "duplicate", "ignored"]},
    },
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `errors` lists every invalid field",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "machine-readable, e.g. validation_error, card_declined"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "param": {"type": "string"},
        "decline_code": {"type": "string"},
        "payment_id": {"type": "string"},
        "request_id": {"type": "string", "description": "API Gateway's request id (its own answers)"},
    },
}
# API Gateway's own 5xx answer (its DEFAULT_5XX gateway response, e.g. when the function failed) cannot
# know the status, so it has no `status` member; a 500 or 502 may be either kind.
GATEWAY_PROBLEM_SCHEMA: dict[str, Any] = {
    **PROBLEM_SCHEMA,
    "description": "A problem as in Problem; API Gateway's own 5xx answers carry no `status`",
    "required": ["type", "title", "detail", "code"],
}
IDEMPOTENCY_KEY = "Idempotency-Key"
IDEMPOTENCY_KEY_SCHEMA: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255}
RETRY_AFTER_HEADER: dict[str, Any] = {
    "description": "Seconds to wait before retrying (with the same Idempotency-Key)",
    "schema": {"type": "integer", "minimum": 0},
}
REPLAYED_HEADER: dict[str, Any] = {
    "description": "`true` on the stored answer of an earlier request with the same Idempotency-Key",
    "schema": {"type": "string", "enum": ["true"]},
}
# Answers a route gives beyond what its shape (authorizer, command, body, path id) implies; see
# payments/application and the handlers.
ROUTE_ANSWERS: dict[str, dict[int, str]] = {
    "process_payment": {
        402: "`card_declined`: the bank declined the card (`decline_code` says why)",
        404: "`not_found`: the saved payment method (`payment_method_id`) is not the caller's",
    },
    "save_payment_method": {402: "`card_declined`: the bank declined the card when it was attached"},
    "list_payments": {
        404: "`not_found`: `customer_id` names another customer (customers list only their own)"
    },
}


@dataclass(frozen=True)
class _Operation:
    """What decides an operation's answers: its catalog route and its documented shape."""

    fn: catalog.Function
    route: catalog.Route
    operation: dict[str, Any]
    body_properties: frozenset[str]

    @property
    def webhook(self) -> bool:
        return not self.route.authorizer

    @property
    def command(self) -> bool:
        """Runs under an Idempotency-Key: every POST but the webhook, PUT and DELETE."""
        return not self.webhook and self.route.method in ("POST", "PUT", "DELETE")

    @property
    def key_required(self) -> bool:
        return self.command and self.route.method in ("POST", "PUT")

    @property
    def path_id(self) -> bool:
        return "{" in self.route.path

    @property
    def lists(self) -> bool:
        return any(p.get("name") == "cursor" for p in self.operation.get("parameters", []))

    @property
    def stripe(self) -> bool:
        return catalog.STRIPE_API_KEY in self.fn.secrets


def _answers(op: _Operation) -> dict[int, str]:
    """Every status the route answers (besides its successes), with what each means there."""
    extra = ROUTE_ANSWERS.get(op.fn.name, {})
    answers: dict[int, str] = {400: _bad_request(op)}
    if not op.webhook:
        answers[401] = (
            "`unauthenticated`: no token, or a malformed, expired or foreign one (the Cognito authorizer)"
        )
    if 402 in extra:
        answers[402] = extra[402]
    forbidden = []
    if op.route.admin_only:
        forbidden.append("`forbidden`: the operation is for payments admins")
    if "customer_id" in op.body_properties:
        forbidden.append("`forbidden`: only admins and services may act for another customer (`customer_id`)")
    forbidden.append("`forbidden`: blocked by the web application firewall (e.g. its per-client rate rule)")
    answers[403] = "; ".join(forbidden)
    if op.path_id:
        answers[404] = "`not_found`: no such resource, or another customer's (never 403: no existence oracle)"
    elif 404 in extra:
        answers[404] = extra[404]
    if op.command:
        answers[409] = (
            "`request_in_progress`: a request with this Idempotency-Key is still running (Retry-After); "
            "`concurrent_update`: the resource changed meanwhile, retry; or a conflict with its state"
        )
    elif op.webhook:
        answers[409] = (
            "`request_in_progress`: another delivery of this event is being forwarded; Stripe retries"
        )
    # Any request may carry a body, a GET too: API Gateway's size limit and the handlers' media type
    # check apply to every route (the webhook takes Stripe's bytes as sent, whatever their type).
    answers[413] = "`request_too_large`: the body is over API Gateway's 10 MB or Lambda's 6 MB payload"
    if not op.webhook:
        answers[415] = "`unsupported_media_type`: a body whose Content-Type is not JSON (`application/json`)"
    if op.command:
        answers[422] = _unprocessable(op)
    answers[429] = "`rate_limited`: API Gateway's throttling" + (
        "; or Stripe's rate limiting (Retry-After), retry with the same Idempotency-Key" if op.stripe else ""
    )
    answers[500] = "`internal_error`: an unexpected failure, logged" + (
        "; Stripe retries" if op.webhook else ""
    )
    answers[502] = "`internal_error`: the function failed (API Gateway's answer, without `status`)" + (
        "; `payment_provider_error`: Stripe failed, retry with the same Idempotency-Key" if op.stripe else ""
    )
    if op.command:
        answers[503] = (
            "Nothing was decided, retry with the same Idempotency-Key (Retry-After): "
            "`payment_provider_unavailable` (Stripe unreachable), `store_unavailable` (the database stayed "
            "busy)" + (", `events_unavailable` (stored, not yet announced)" if op.fn.publishes else "")
        )
    elif op.stripe:
        answers[503] = "`payment_provider_unavailable`: Stripe could not be reached; retry (Retry-After)"
    answers[504] = "`timeout`: no answer within API Gateway's 29 s integration timeout"
    return answers


def _unprocessable(op: _Operation) -> str:
    reused = "`idempotency_key_reused`: this Idempotency-Key was used with a different request"
    if "order_token" not in op.body_properties:
        return reused
    return (
        f"{reused}; the order token is not accepted: `order_token_invalid` (malformed, not signed by a "
        "key of the Order Service, claims of the wrong kind), `order_token_expired`, "
        "`order_token_not_yet_valid`, `order_token_issuer_unknown`, `order_token_customer_mismatch` "
        "(another customer's); "
        "`order_token_mismatch`: the body's order_id, amount or currency differs from the token's"
    )


def _bad_request(op: _Operation) -> str:
    if op.webhook:
        return (
            "Not accepted, nothing forwarded: `validation_error` (no Stripe-Signature header, API "
            "Gateway's request validator), `signature_invalid`, `malformed_event`, `livemode_mismatch`"
        )
    codes = [
        "`validation_error` (every bad field listed)",
        "`malformed_json`",
        "`malformed_body` (not UTF-8)",
        "`payload_too_large` (64 KB)",
        "`nesting_too_deep`",
        "`duplicate_key` (a key twice in an object)",
        "`card_data_not_accepted` (a card number anywhere in the body)",
    ]
    if op.command:
        codes.append("`idempotency_key_missing`" + ("" if op.key_required else " (an empty key)"))
    if "order_token" in op.body_properties:
        codes.append("`order_token_required` (a customer's payment without its order token)")
    if op.lists:
        codes.append("`invalid_cursor`")
    if op.stripe:
        codes.append("`payment_method_invalid`, `amount_too_small` or `invalid_request` (refused by Stripe)")
    return "Invalid request: " + ", ".join(codes)


def _problem_responses(document: dict[str, Any], root: Path) -> None:
    """Every answer of every operation, documented: the statuses its route can answer (problem+json,
    RFC 9457; the handlers answer invalid requests with 400, not Powertools' default 422), a required
    Idempotency-Key on commands, Retry-After and Idempotent-Replayed where they are sent, no body on 204."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    components["GatewayProblem"] = GATEWAY_PROBLEM_SCHEMA
    document["components"]["headers"] = {
        "IdempotentReplayed": REPLAYED_HEADER,
        "RetryAfter": RETRY_AFTER_HEADER,
    }
    # Powertools' own validation models: its 422 and response validation are not ours (nothing may point
    # at a dropped schema: ResponseValidationError refers to ValidationError).
    for unused in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):
        components.pop(unused, None)
    for fn in implemented_routes(root):
        assert fn.route is not None
        operation = document.get("paths", {}).get(fn.route.path, {}).get(fn.route.method.lower())
        if operation is None:
            continue  # _check_against_catalog reports it
        op = _Operation(fn, fn.route, operation, _body_properties(document, operation))
        _idempotency_key(op)
        responses: dict[str, Any] = operation.setdefault("responses", {})
        responses.pop("422", None)  # Powertools' validation answer; ours is a 400 (and 422 means reuse)
        for code, description in _answers(op).items():
            declared = responses.get(str(code))
            schema = "GatewayProblem" if code in (500, 502) else "Problem"
            responses[str(code)] = {
                # The handler's own words about its route first (e.g. which conflicts), then the rest.
                "description": f"{declared['description']}; {description}" if declared else description,
                "content": {PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
            }
        for status, response in responses.items():
            _headers(op, int(status), response)
        operation["responses"] = dict(sorted(responses.items()))
    defined = {
        f"#/components/{kind}/{name}" for kind, items in document["components"].items() for name in items
    }
    dangling = sorted(_references(document) - defined)
    if dangling:
        raise DocumentError(f"the document refers to components it does not have: {dangling}")


def _references(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_references(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_references(item) for item in node))
    return set()


def _idempotency_key(op: _Operation) -> None:
    parameters = op.operation.setdefault("parameters", [])
    parameters[:] = [p for p in parameters if str(p.get("name")).lower() != IDEMPOTENCY_KEY.lower()]
    if not op.command:
        if not parameters:
            op.operation.pop("parameters")
        return
    parameters.append(
        {
            "name": IDEMPOTENCY_KEY,
            "in": "header",
            "required": op.key_required,
            "schema": IDEMPOTENCY_KEY_SCHEMA,
            "description": (
                "The client's unique key for this request (e.g. a UUID): a retry with the same key and body "
                "gets the first answer, never a second charge"
                if op.key_required
                else "Optional: with one, a repeated delete gets the first answer; without, a 404"
            ),
        }
    )


def _headers(op: _Operation, status: int, response: dict[str, Any]) -> None:
    headers: dict[str, Any] = {}
    if op.command and (status < 300 or status in (400, 402, 403, 404, 409)):
        # Outcomes stored with the Idempotency-Key are replayed with this header.
        headers["Idempotent-Replayed"] = {"$ref": "#/components/headers/IdempotentReplayed"}
    if status in (429, 503) or (status == 409 and (op.command or op.webhook)):
        headers["Retry-After"] = {"$ref": "#/components/headers/RetryAfter"}
    if headers:
        response["headers"] = headers
    if status == 204:
        response.pop("content", None)  # no body, no Content-Type


def _body_properties(document: dict[str, Any], operation: dict[str, Any]) -> frozenset[str]:
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    for option in [schema, *schema.get("anyOf", [])]:
        ref = option.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            target = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
            return frozenset(target.get("properties", {}))
    return frozenset(schema.get("properties", {}))


def _version(root: Path) -> str:
    with (root / "pyproject.toml").open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


def _operation_key(route: catalog.Route) -> tuple[str, str]:
    return route.path, route.method.lower()


def _mark_open_routes(document: dict[str, Any]) -> None:
    """Routes without the authorizer (Stripe's webhook) override the global bearer requirement."""
    for fn in catalog.api_functions():
        assert fn.route is not None
        path, method = _operation_key(fn.route)
        operation = document.get("paths", {}).get(path, {}).get(method)
        if operation is not None and not fn.route.authorizer:
            operation["security"] = []


def _check_against_catalog(document: dict[str, Any], root: Path) -> None:
    documented = {(path, method) for path, item in document.get("paths", {}).items() for method in item}
    expected = set()
    for fn in implemented_routes(root):
        assert fn.route is not None
        expected.add(_operation_key(fn.route))
    catalog_routes = {_operation_key(fn.route) for fn in catalog.api_functions() if fn.route}
    missing = sorted(expected - documented)
    unknown = sorted(documented - catalog_routes)
    if missing or unknown:
        raise DocumentError(
            f"OpenAPI and catalog disagree: undocumented {missing}, not in the catalog {unknown}"
        )


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- Swagger UI


# swagger-ui-bundle ships Swagger UI 4, which renders OpenAPI 3.0 only; it gets a 3.0 rendering of the
# same document (the committed and served /v1/openapi.json stays 3.1).
def for_swagger_ui(document: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = _to_30(document)
    converted["openapi"] = "3.0.3"
    return converted


def _to_30(node: Any) -> Any:
    if isinstance(node, list):
        return [_to_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _to_30(value) for key, value in node.items()}
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [option for option in options if option != {"type": "null"}]
            node.pop(key)
            node.update(rest[0] if len(rest) == 1 else {key: rest})
            node["nullable"] = True
    if isinstance(node.get("type"), list):
        types = [t for t in node["type"] if t != "null"]
        node["nullable"] = len(types) < len(node["type"]) or node.get("nullable", False)
        node["type"] = types[0] if types else "string"
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if isinstance(node.get("examples"), list) and "schema" not in node and node["examples"]:
        node["example"] = node.pop("examples")[0]
    for bound in ("exclusiveMinimum", "exclusiveMaximum"):
        if isinstance(node.get(bound), int | float) and not isinstance(node.get(bound), bool):
            node["minimum" if bound == "exclusiveMinimum" else "maximum"] = node[bound]
            node[bound] = True
    return node


def swagger_page(api_base: str) -> str:
    """Swagger UI, with every asset served by the local gateway (works offline)."""
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{TITLE} (local)</title>
  <link rel="stylesheet" href="{api_base}/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="{api_base}/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{api_base}/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{api_base}/docs/openapi-3.0.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true
    }});
  </script>
</body>
</html>
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.openapi", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if openapi.json is not up to date")
    mode.add_argument("--stdout", action="store_true", help="print the document instead of writing it")
    args = parser.parse_args(argv)
    text = render(build_document())
    if args.stdout:
        sys.stdout.write(text)
        return 0
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print("openapi.json is out of date: run `make openapi` and commit it", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(document_paths(text))} paths)")
    return 0


def document_paths(text: str) -> list[str]:
    return list(json.loads(text).get("paths", {}))


if __name__ == "__main__":
    sys.exit(main())
