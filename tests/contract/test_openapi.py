"""openapi.json is generated from the handlers (`make openapi`); it must not drift from them."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from infra import catalog
from infra.local import gateway
from infra.local.environment import base_environment
from infra.local.settings import ROOT
from payments.domain.errors import PaymentsError
from tools.openapi import OUTPUT, SECURITY_SCHEME, implemented_routes


def test_the_committed_document_matches_the_handlers() -> None:
    check = subprocess.run(
        [sys.executable, "-m", "tools.openapi", "--check"],
        cwd=ROOT,
        env=base_environment(),
        capture_output=True,
        text=True,
        check=False,
    )

    assert check.returncode == 0, f"{check.stderr.strip()[-2000:]}"


def test_every_implemented_route_is_documented_with_its_security() -> None:
    document = json.loads(OUTPUT.read_text())

    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": "/v1", "description": document["servers"][0]["description"]}]
    assert document["components"]["securitySchemes"][SECURITY_SCHEME] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"][SECURITY_SCHEME]["description"],
    }
    assert document["security"] == [{SECURITY_SCHEME: []}]
    for fn in implemented_routes():
        assert fn.route is not None
        operation = document["paths"][fn.route.path][fn.route.method.lower()]
        if not fn.route.authorizer:
            assert operation["security"] == []
    assert len(implemented_routes()) <= len(catalog.api_functions())


# --------------------------------------------------------------------------- every answer documented


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OUTPUT.read_text())
    return document


def _operations() -> list[tuple[catalog.Function, dict[str, Any]]]:
    document = _document()
    found = []
    for fn in implemented_routes():
        assert fn.route is not None
        found.append((fn, document["paths"][fn.route.path][fn.route.method.lower()]))
    return found


def _statuses(operation: dict[str, Any]) -> set[int]:
    return {int(status) for status in operation["responses"]}


def _is_command(route: catalog.Route) -> bool:
    return route.authorizer and route.method in ("POST", "PUT", "DELETE")


def test_the_document_is_valid_openapi_3_1() -> None:
    from openapi_spec_validator import validate

    try:
        validate(_document())
    except Exception as error:  # its messages embed the whole document
        pytest.fail(f"{type(error).__name__}: {str(error)[:600]}")


def test_idempotency_key_is_required_on_every_post_command_and_optional_on_delete() -> None:
    for fn, operation in _operations():
        assert fn.route is not None
        keys = [p for p in operation.get("parameters", []) if p["name"].lower() == "idempotency-key"]
        if not _is_command(fn.route):
            assert keys == [], fn.name  # GETs and the webhook (Stripe sends no such key)
            continue
        assert len(keys) == 1, fn.name
        (key,) = keys
        assert key["in"] == "header"
        assert key["required"] is (fn.route.method in ("POST", "PUT")), fn.name
        assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255}


def test_every_operation_documents_every_status_its_route_answers() -> None:
    for fn, operation in _operations():
        route = fn.route
        assert route is not None
        expected = {400, 403, 429, 500, 502, 504}  # validation; WAF; throttling; failure; function; timeout
        if route.authorizer:
            expected.add(401)
        if route.admin_only or fn.name == "process_payment":  # admin only; acting for another customer
            expected.add(403)
        if "{" in route.path:
            expected.add(404)
        if _is_command(route):
            expected |= {409, 422, 503}  # request_in_progress and conflicts; idempotency_key_reused
        expected.add(413)  # any request may carry a body, a GET too
        if route.authorizer:
            expected.add(415)  # a body that is not JSON (the webhook takes Stripe's bytes as sent)
        if not route.authorizer:
            expected.add(409)  # another delivery of the same event is being forwarded
        missing = expected - _statuses(operation)
        assert not missing, f"{fn.name} leaves out {sorted(missing)}"


@pytest.mark.parametrize(
    ("function", "statuses"),
    [
        ("process_payment", {201, 400, 401, 402, 403, 404, 409, 413, 415, 422, 429, 500, 502, 503, 504}),
        ("list_payments", {200, 400, 401, 403, 404, 413, 415, 429, 500, 502, 504}),
        ("get_payment", {200, 400, 401, 403, 404, 413, 415, 429, 500, 502, 504}),
        ("capture_payment", {200, 400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 502, 503, 504}),
        ("refund_payment", {201, 400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 502, 503, 504}),
        ("list_payment_methods", {200, 400, 401, 403, 413, 415, 429, 500, 502, 504}),
        ("save_payment_method", {200, 201, 400, 401, 402, 403, 409, 413, 415, 422, 429, 500, 502, 503, 504}),
        ("delete_payment_method", {204, 400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 502, 503, 504}),
        ("stripe_webhook", {200, 400, 403, 409, 413, 429, 500, 502, 504}),
    ],
)
def test_the_statuses_of_each_route(function: str, statuses: set[int]) -> None:
    operation = {fn.name: op for fn, op in _operations()}[function]

    assert _statuses(operation) == statuses


def test_every_error_answer_is_a_problem_and_every_domain_status_is_documented() -> None:
    documented: set[int] = set()
    for fn, operation in _operations():
        for status, response in operation["responses"].items():
            documented.add(int(status))
            if int(status) < 400:
                continue
            schema = "GatewayProblem" if int(status) in (500, 502) else "Problem"
            assert response["content"] == {
                "application/problem+json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
            }, (fn.name, status)
            assert response["description"], (fn.name, status)
    domain = {cls.status for cls in _subclasses(PaymentsError)}
    assert domain <= documented, (
        f"statuses of payments/domain/errors.py nowhere documented: {domain - documented}"
    )
    gateway_statuses = {problem.status for problem in gateway.GATEWAY_PROBLEMS if problem.status}
    assert gateway_statuses - {404} <= documented  # 404: also an unknown route, which is no operation
    problem = _document()["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    # API Gateway's own 5xx (DEFAULT_5XX) has no status member; its other answers do.
    assert gateway.DEFAULT_5XX.status is None
    assert "status" not in _document()["components"]["schemas"]["GatewayProblem"]["required"]


def _subclasses(cls: type[PaymentsError]) -> set[type[PaymentsError]]:
    found: set[type[PaymentsError]] = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_success_answers_are_json_and_204_has_no_body() -> None:
    for fn, operation in _operations():
        for status, response in operation["responses"].items():
            if int(status) >= 300:
                continue
            if status == "204":
                assert "content" not in response, fn.name
            else:
                # The one exception: the reconciliation's differences for ops, as a CSV file.
                media = "text/csv" if fn.name == "get_reconciliation_differences" else "application/json"
                assert list(response["content"]) == [media], (fn.name, status)
                assert response["content"][media]["schema"], (fn.name, status)


def test_retry_after_and_idempotent_replayed_are_documented_where_sent() -> None:
    for fn, operation in _operations():
        assert fn.route is not None
        responses = operation["responses"]
        for status in ("429", "503"):
            if status in responses:
                assert "Retry-After" in responses[status]["headers"], (fn.name, status)
        if _is_command(fn.route):
            assert "Retry-After" in responses["409"]["headers"]  # request_in_progress
            success = next(s for s in responses if s.startswith("2"))
            assert "Idempotent-Replayed" in responses[success]["headers"], fn.name
    headers = _document()["components"]["headers"]
    assert headers["RetryAfter"]["schema"] == {"type": "integer", "minimum": 0}
    assert headers["IdempotentReplayed"]["schema"] == {"type": "string", "enum": ["true"]}


def test_the_webhook_documents_its_receipt() -> None:
    operation = {fn.name: op for fn, op in _operations()}["stripe_webhook"]

    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["received", "id", "outcome"]
    assert schema["properties"]["outcome"]["enum"] == ["forwarded", "duplicate", "ignored"]
    assert operation["security"] == []
