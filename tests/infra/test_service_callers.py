"""Who may call the API (docs/architecture.md, Trust model): every authorized method takes access tokens
with one of the catalog's API_SCOPES; services get theirs from their own app client (client credentials
only, scope payments/service), which no other client may grant. And the order token keys reach
process_payment alone."""

from __future__ import annotations

import json

import pytest

from infra import catalog
from infra.aws.config import DEFAULTS
from tests.infra.stacks import Stage, ref
from tests.infra.test_api import method
from tests.infra.test_functions import function

ROUTES = pytest.mark.parametrize("spec", catalog.api_functions(), ids=lambda f: f.name)


@ROUTES
def test_every_authorized_method_takes_access_tokens_of_people_and_services(stage: Stage, spec) -> None:
    props = method(stage, spec)
    if spec.route.authorizer:
        assert props["AuthorizationScopes"] == list(catalog.API_SCOPES)
        assert set(catalog.API_SCOPES) == {"aws.cognito.signin.user.admin", "payments/service"}
    else:
        assert "AuthorizationScopes" not in props


def test_the_resource_server_has_the_service_scope(stage: Stage) -> None:
    (server,) = [r["Properties"] for r in stage.of_type("AWS::Cognito::UserPoolResourceServer").values()]
    assert server["Identifier"] == catalog.RESOURCE_SERVER
    assert [s["ScopeName"] for s in server["Scopes"]] == [catalog.SERVICE_SCOPE_NAME]
    assert ref(server["UserPoolId"]) == stage.logical_id("Api/UserPool/Resource")


def test_the_service_client_has_only_client_credentials_for_that_scope(stage: Stage) -> None:
    client = stage.at("Api/UserPool/ServiceClient/Resource")[1]["Properties"]
    assert client["GenerateSecret"] is True
    assert client["AllowedOAuthFlows"] == ["client_credentials"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    # payments/service, written from the resource server (whose Ref is its identifier, "payments").
    (scope,) = client["AllowedOAuthScopes"]
    server = next(iter(stage.of_type("AWS::Cognito::UserPoolResourceServer")))
    assert ref(scope) == f"{server}/{catalog.SERVICE_SCOPE_NAME}"
    # No user sign-in: only the refresh token flow CDK always lists, which client credentials never use.
    assert client["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert "CallbackURLs" not in client
    assert client["SupportedIdentityProviders"] == ["COGNITO"]


def test_no_other_client_can_grant_the_service_scope(stage: Stage) -> None:
    service = stage.logical_id("Api/UserPool/ServiceClient/Resource")
    for logical_id, client in stage.of_type("AWS::Cognito::UserPoolClient").items():
        if logical_id == service:
            continue
        props = client["Properties"]
        assert "client_credentials" not in props.get("AllowedOAuthFlows", [])
        assert catalog.RESOURCE_SERVER not in json.dumps(props.get("AllowedOAuthScopes", []))


def test_services_have_a_token_endpoint(stage: Stage) -> None:
    (domain,) = [r["Properties"] for r in stage.of_type("AWS::Cognito::UserPoolDomain").values()]
    assert ref(domain["Domain"]).startswith(f"{catalog.SERVICE_NAME}-")
    outputs = stage.template["Outputs"]
    assert "ServiceClientId" in outputs
    assert json.dumps(outputs["TokenEndpoint"]["Value"]).endswith('/oauth2/token"]]}')


def test_the_order_token_keys_reach_process_payment_alone(stage: Stage) -> None:
    """Its environment names the secret and the issuer; no other function's does."""
    for spec in catalog.FUNCTIONS:
        variables = function(stage, spec)[1].get("Environment", {}).get("Variables", {})
        holds = catalog.ORDER_TOKEN_KEYS.env in variables
        assert holds == (spec.name == "process_payment"), spec.name
        if holds:
            assert variables[catalog.ORDER_TOKEN_ISSUER_ENV] == DEFAULTS[stage.name].order_token_issuer
