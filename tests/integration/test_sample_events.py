"""Every route has a sample API Gateway event in events/api, and every sample still drives its handler."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import catalog
from tests.support.api import invoke_event

EVENTS = Path(__file__).resolve().parents[2] / "events" / "api"
ROUTED = [f for f in catalog.api_functions() if f.name != "stripe_webhook"]
IMPLEMENTED = {p.parent.name for p in (EVENTS.parents[1] / "functions").glob("*/app.py")}


def test_every_route_has_a_sample():
    assert {p.stem for p in EVENTS.glob("*.json")} == {f.name for f in ROUTED}


@pytest.mark.parametrize("fn", [f for f in ROUTED if f.name in IMPLEMENTED], ids=lambda f: f.name)
def test_sample_event_matches_its_route_and_is_handled(aws, emulator, fn):
    event = json.loads((EVENTS / f"{fn.name}.json").read_text())
    assert fn.route is not None
    assert (event["httpMethod"], event["resource"]) == (fn.route.method, fn.route.path)
    response = invoke_event(fn.name, event)
    # Samples name example ids that do not exist: a clean 2xx/4xx answer, never a server error.
    assert response.status < 500, response.raw_body
    assert json.loads(response.raw_body or "null") is not None or response.status == 204
