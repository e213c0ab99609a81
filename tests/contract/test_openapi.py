"""openapi.json is generated from the handlers (`make openapi`); it must not drift from them."""

from __future__ import annotations

import json
import subprocess
import sys

from infra import catalog
from infra.local.environment import base_environment
from infra.local.openapi import OUTPUT, SECURITY_SCHEME, implemented_routes
from infra.local.settings import ROOT


def test_the_committed_document_matches_the_handlers() -> None:
    check = subprocess.run(
        [sys.executable, "-m", "infra.local.openapi", "--check"],
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
