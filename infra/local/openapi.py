"""The OpenAPI 3.1 document of the whole API, generated from the handlers' own resolvers and models.

`python -m infra.local.openapi` writes openapi.json (committed; tests/contract fails when it drifts),
`--check` only compares, `--stdout` prints it (the local gateway serves it live at /v1/openapi.json).

Powertools' merge (`OpenAPIMerge`, the engine behind `APIGatewayRestResolver.configure_openapi_merge`)
discovers resolvers by reading the source for a literal `app = APIGatewayRestResolver(...)`; our handlers
build theirs with `api.create_app()`, which that scan cannot see. So the catalog names the files instead:
every API function whose app.py exists is added to the same merge, and the result is checked against the
catalog (each implemented route present, nothing outside it). A route served by a raw handler without a
resolver (Stripe's webhook, which must read its body byte for byte) is described from the catalog.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import tomllib
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infra import catalog
from infra.local.settings import ROOT

OUTPUT = ROOT / "openapi.json"
TITLE = "Payments API"
SECURITY_SCHEME = "cognito"
DESCRIPTION = (
    "Pay for orders, save cards and follow payments. Amounts are integers in the currency's minor unit; "
    "errors are RFC 9457 problem details (`application/problem+json`) with a machine-readable `code`. "
    "Every POST needs an `Idempotency-Key` header. Authenticate with a Cognito ID token "
    "(`Authorization: Bearer <token>`; locally: `make token`)."
)


class DocumentError(RuntimeError):
    """The generated document disagrees with the catalog."""


def implemented_routes(root: Path = ROOT) -> list[catalog.Function]:
    return [fn for fn in catalog.api_functions() if (root / "functions" / fn.name / "app.py").is_file()]


def build_document(root: Path = ROOT) -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

    for path in (str(root / "layers" / "core" / "python"), str(root)):
        if path not in sys.path:
            sys.path.insert(0, path)
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
                description="Cognito User Pool ID token (API Gateway's Cognito authorizer)",
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
    _problem_responses(document)
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
    problem = {"application/problem+json": {"schema": {"type": "object"}}}
    operation: dict[str, Any] = {
        "summary": fn.description,
        "operationId": fn.name,
        "responses": {
            "200": {"description": "Accepted"},
            "400": {"description": "Refused", "content": problem},
        },
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
        operation["responses"]["500"] = {"description": "Not forwarded; Stripe retries", "content": problem}
    document.setdefault("paths", {}).setdefault(fn.route.path, {})[fn.route.method.lower()] = operation


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
    },
}


def _problem_responses(document: dict[str, Any]) -> None:
    """The handlers answer invalid requests with 400 problem+json, not Powertools' default 422."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for item in document.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {})
            if responses.pop("422", None) is not None:
                responses["400"] = {
                    "description": "Invalid request (every bad field listed)",
                    "content": problem,
                }
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)


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
    parser = argparse.ArgumentParser(
        prog="python -m infra.local.openapi", description=__doc__.splitlines()[0]
    )
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
