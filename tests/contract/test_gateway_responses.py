"""The local gateway answers with the deployed API's gateway responses: one list (infra/catalog.py),
one body (payments.http.problems), rendered alike by infra/aws/api.py's templates and the gateway."""

from __future__ import annotations

import json

import pytest

from infra import catalog
from infra.local import gateway
from infra.local.apigw import catalog_routes


def test_every_gateway_response_is_one_api_gateway_has() -> None:
    from aws_cdk import aws_apigateway as apigw  # imports CDK: only here

    known = {
        getattr(apigw.ResponseType, name).response_type for name in dir(apigw.ResponseType) if name.isupper()
    }
    assert {response.response_type for response in catalog.GATEWAY_RESPONSES} <= known
    assert set(gateway.GATEWAY_PROBLEMS) <= set(catalog.GATEWAY_RESPONSES)


@pytest.mark.parametrize("response", catalog.GATEWAY_RESPONSES, ids=lambda r: r.response_type)
def test_the_local_body_is_the_deployed_template_rendered(response: catalog.GatewayResponse) -> None:
    from infra.aws import api  # imports CDK: only here

    detail, request_id = 'Missing "token"', "4b6c0e39-0d5c-4f5e-9a43-5a6f2a0c9b1e"
    template = api.problem_template(response)
    deployed = template.replace(api.ERROR_MESSAGE, json.dumps(detail)).replace(api.REQUEST_ID, request_id)

    local = gateway.problem(response, detail, request_id, status=502)

    assert json.loads(local.body) == json.loads(deployed)
    assert local.status == (response.status or 502)
    assert ("Content-Type", "application/problem+json") in local.headers


def test_the_gateway_serves_every_catalog_route_under_the_stage() -> None:
    routes = {(route.method, route.template) for route in catalog_routes()}

    assert routes == {(fn.route.method, fn.route.path) for fn in catalog.api_functions() if fn.route}
    assert f"/{catalog.API_STAGE}" == gateway.STAGE
