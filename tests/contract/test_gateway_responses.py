"""The local gateway answers with the deployed API's gateway responses (infra/aws/api.py)."""

from __future__ import annotations

from infra import catalog
from infra.local import gateway
from infra.local.apigw import catalog_routes
from payments.http.problems import TYPE_BASE


def test_local_gateway_problems_are_the_deployed_ones() -> None:
    from infra.aws import api  # imports CDK: only here

    deployed = {
        kind.response_type: (status, code, title) for kind, status, code, title in api.GATEWAY_PROBLEMS
    }

    for problem in gateway.GATEWAY_PROBLEMS:
        assert deployed[problem.response_type] == (problem.status, problem.code, problem.title), problem
    assert gateway.PROBLEM_TYPE_BASE == api.PROBLEM_TYPE_BASE == TYPE_BASE


def test_the_gateway_serves_every_catalog_route_under_the_stage() -> None:
    routes = {(route.method, route.template) for route in catalog_routes()}

    assert routes == {(fn.route.method, fn.route.path) for fn in catalog.api_functions() if fn.route}
    assert f"/{catalog.API_STAGE}" == gateway.STAGE
