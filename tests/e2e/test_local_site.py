"""The console and checkout pages' files and local endpoints, through the local gateway in process
(infra/local/web.py, infra/local/sign_in.py): what is served, with which headers, and what is not."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt as jose_jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import import_key

from infra.local.gateway import LocalGateway, Request
from infra.local.settings import ORDER_TOKEN_PRIVATE_JWK
from infra.local.tokens import verify_token
from infra.local.web import LocalSite
from tests.e2e.test_gateway_unit import SECRET, FakeFunctions, bearer

pytestmark = pytest.mark.e2e

API_URL = "http://127.0.0.1:3000/v1"
JSON = ("Content-Type", "application/json")


@pytest.fixture
def local(tmp_path: Path) -> LocalGateway:
    for name in ("console", "checkout"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.html").write_text(f"<!doctype html><title>{name}</title>")
        (tmp_path / name / "app.js").write_text("export {};")
    (tmp_path / "console" / "notes.txt").write_text("not a page")
    (tmp_path / "secret.html").write_text("outside the sites")
    site = LocalSite(API_URL, root=tmp_path)
    return LocalGateway(FakeFunctions(), SECRET, None, lambda *line: None, site=site)


def get(local: LocalGateway, path: str, *headers: tuple[str, str]) -> tuple[int, dict[str, str], bytes]:
    response = local.handle(Request("GET", path, list(headers)))
    return response.status, dict(response.headers), response.body


def post(
    local: LocalGateway, path: str, body: object, *headers: tuple[str, str]
) -> tuple[int, dict[str, str], dict[str, Any]]:
    response = local.handle(Request("POST", path, [JSON, *headers], json.dumps(body).encode()))
    return response.status, dict(response.headers), json.loads(response.body)


def test_pages_and_modules_are_served_with_the_security_headers(local: LocalGateway) -> None:
    status, headers, body = get(local, "/console/")
    assert (status, body) == (200, b"<!doctype html><title>console</title>")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"

    status, headers, _ = get(local, "/checkout/app.js")
    assert status == 200
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"  # ES modules need a JS type
    assert "Content-Security-Policy" in headers


def test_the_bare_site_path_redirects_to_the_folder(local: LocalGateway) -> None:
    status, headers, _ = get(local, "/console")
    assert (status, headers["Location"]) == (302, "/console/")


@pytest.mark.parametrize(
    "path",
    ["/console/../secret.html", "/console/%2e%2e/secret.html", "/console/notes.txt", "/console/none.js"],
)
def test_nothing_but_the_sites_files_is_served(local: LocalGateway, path: str) -> None:
    status, headers, _ = get(local, path)
    assert status == 404
    assert "Content-Security-Policy" in headers


def test_config_names_the_api_as_the_browser_reached_it_and_the_local_sign_in(local: LocalGateway) -> None:
    _, headers, body = get(local, "/console/config.json", ("Host", "localhost:3000"))
    assert json.loads(body) == {"api_base": "http://localhost:3000/v1", "auth": {"kind": "local"}}
    assert headers["Content-Type"] == "application/json"

    _, _, body = get(local, "/checkout/config.json", ("Host", "evil.example:80"))
    assert json.loads(body)["api_base"] == API_URL  # not a loopback name: the configured address


def test_the_local_sign_in_gives_an_access_token_in_the_body(local: LocalGateway) -> None:
    status, headers, body = post(local, "/_local/sign-in", {"role": "admin", "sub": "backoffice"})

    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    claims = verify_token(SECRET, body["access_token"])
    assert (claims["sub"], claims["cognito:groups"]) == ("backoffice", ["payments-admin"])


@pytest.mark.parametrize(
    "body", [{"role": "service", "sub": "x"}, {"role": "customer", "sub": "a b"}, {"role": "customer"}]
)
def test_the_local_sign_in_refuses_other_roles_and_odd_names(
    local: LocalGateway, body: dict[str, Any]
) -> None:
    status, headers, problem = post(local, "/_local/sign-in", body)
    assert (status, problem["code"]) == (400, "validation_error")
    assert headers["Content-Type"] == "application/problem+json"


def test_the_local_sign_in_takes_only_json(local: LocalGateway) -> None:
    form = Request(
        "POST", "/_local/sign-in", [("Content-Type", "application/x-www-form-urlencoded")], b"role=admin"
    )
    assert local.handle(form).status == 415
    assert local.handle(Request("GET", "/_local/sign-in", [])).status == 405


def test_an_order_token_is_for_the_signed_in_customer_and_a_new_order(local: LocalGateway) -> None:
    status, _, first = post(local, "/_local/order-token", {"item": "coffee"}, bearer("carol"))
    _, _, second = post(local, "/_local/order-token", {"item": "coffee"}, bearer("carol"))

    assert status == 200
    assert (first["amount"], first["currency"]) == (2599, "usd")
    assert first["order_id"] != second["order_id"]
    key = import_key(ORDER_TOKEN_PRIVATE_JWK)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # joserfc: the name EdDSA is deprecated (RFC 9864)
        claims = jose_jwt.decode(first["order_token"], key, algorithms=["EdDSA"]).claims
    assert (claims["sub"], claims["order_id"], claims["amount"]) == ("carol", first["order_id"], 2599)


def test_an_order_token_needs_a_signed_in_customer_and_a_sample_item(local: LocalGateway) -> None:
    assert post(local, "/_local/order-token", {"item": "coffee"})[0] == 401
    assert post(local, "/_local/order-token", {"item": "yacht"}, bearer("carol"))[0] == 400
    status, _, body = get(local, "/_local/orders")
    assert status == 200
    assert [o["item"] for o in json.loads(body)["data"]] == ["coffee", "teapot", "subscription"]


def test_without_a_site_the_gateway_serves_no_pages() -> None:
    bare = LocalGateway(FakeFunctions(), SECRET, None, lambda *line: None)
    assert bare.handle(Request("GET", "/console/", [])).status == 403
    assert bare.handle(Request("POST", "/_local/sign-in", [JSON], b"{}")).status == 403
