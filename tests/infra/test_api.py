"""The REST API: the catalog's routes, the authorizer, validation, throttling, logs, WAF, outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import catalog
from infra.aws.api import calls_stripe
from infra.aws.config import DEFAULTS
from infra.aws.naming import construct_id
from infra.aws.waf import STRIPE_WEBHOOK_IPS
from tests.infra.stacks import Stage, Synth, ref

ROUTES = pytest.mark.parametrize("spec", catalog.api_functions(), ids=lambda f: f.name)


def resource_paths(stage: Stage) -> dict[str, str]:
    """API Gateway resource logical id -> full path, rebuilt from the PathPart/ParentId tree."""
    resources = stage.of_type("AWS::ApiGateway::Resource")

    def path(logical_id: str) -> str:
        props = resources[logical_id]["Properties"]
        parent = ref(props["ParentId"])
        prefix = "" if parent.endswith(".RootResourceId") else path(parent)
        return f"{prefix}/{props['PathPart']}"

    return {logical_id: path(logical_id) for logical_id in resources}


def methods(stage: Stage) -> dict[tuple[str, str], dict[str, Any]]:
    paths = resource_paths(stage)
    return {
        (m["Properties"]["HttpMethod"], paths[ref(m["Properties"]["ResourceId"])]): m["Properties"]
        for m in stage.of_type("AWS::ApiGateway::Method").values()
    }


def method(stage: Stage, spec: catalog.Function) -> dict[str, Any]:
    assert spec.route is not None
    return methods(stage)[(spec.route.method, spec.route.path)]


def test_routes_are_the_catalog(stage: Stage) -> None:
    assert set(methods(stage)) == {(f.route.method, f.route.path) for f in catalog.api_functions() if f.route}


@ROUTES
def test_proxy_integration_to_the_function_or_its_alias(stage: Stage, spec: catalog.Function) -> None:
    integration = method(stage, spec)["Integration"]
    assert integration["Type"] == "AWS_PROXY"
    function_id = stage.logical_id(f"Functions/{construct_id(spec.name)}/Function/Resource")
    aliases = [
        logical_id
        for logical_id, alias in stage.of_type("AWS::Lambda::Alias").items()
        if ref(alias["Properties"]["FunctionName"]) == function_id
    ]
    # SnapStart functions are invoked through their alias (a published version), the others directly.
    expected = aliases[0] if spec.snapstart else function_id
    assert expected in json.dumps(integration["Uri"])


@ROUTES
def test_cognito_authorizer_on_every_route_but_the_webhook(stage: Stage, spec: catalog.Function) -> None:
    assert spec.route is not None
    props = method(stage, spec)
    if spec.route.authorizer:
        assert props["AuthorizationType"] == "COGNITO_USER_POOLS"
        authorizer = stage.resources[ref(props["AuthorizerId"])]["Properties"]
        assert authorizer["Type"] == "COGNITO_USER_POOLS"
        pool = stage.logical_id("Api/UserPool/Resource")
        assert [ref(arn) for arn in authorizer["ProviderARNs"]] == [f"{pool}.Arn"]
    else:
        assert props["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in props


@ROUTES
def test_request_validation(stage: Stage, spec: catalog.Function) -> None:
    props = method(stage, spec)
    validator = stage.resources[ref(props["RequestValidatorId"])]["Properties"]
    assert validator["ValidateRequestParameters"] is True
    for name in (
        [p.strip("{}") for p in spec.route.path.split("/") if p.startswith("{")] if spec.route else []
    ):
        assert props["RequestParameters"][f"method.request.path.{name}"] is True


def test_webhook_body_reaches_the_function_untouched(stage: Stage) -> None:
    (webhook,) = [f for f in catalog.api_functions() if f.route and not f.route.authorizer]
    props = method(stage, webhook)
    assert props["RequestParameters"] == {"method.request.header.Stripe-Signature": True}
    assert "RequestModels" not in props
    integration = props["Integration"]
    assert not {"RequestTemplates", "ContentHandling", "PassthroughBehavior"} & set(integration)
    (api,) = stage.of_type("AWS::ApiGateway::RestApi").values()
    assert not api["Properties"].get("BinaryMediaTypes")


def method_settings(stage: Stage) -> dict[tuple[str, str], dict[str, Any]]:
    """The stage's MethodSettings by (HTTP method, resource path), paths decoded (`~1` is `/`)."""
    (props,) = [r["Properties"] for r in stage.of_type("AWS::ApiGateway::Stage").values()]
    return {(m["HttpMethod"], _decoded(m["ResourcePath"])): m for m in props["MethodSettings"]}


def _decoded(resource_path: str) -> str:
    """`/~1payments~1{payment_id}~1refunds` -> `/payments/{payment_id}/refunds` (`/*`: every method)."""
    return resource_path if resource_path == "/*" else resource_path[1:].replace("~1", "/")


def test_stage_throttling_and_logging(stage: Stage) -> None:
    config = DEFAULTS[stage.name]
    (props,) = [r["Properties"] for r in stage.of_type("AWS::ApiGateway::Stage").values()]
    assert props["StageName"] == catalog.API_STAGE
    assert props["TracingEnabled"] is True
    every = method_settings(stage)[("*", "/*")]
    assert every["ThrottlingRateLimit"] == config.api_rate_limit
    assert every["ThrottlingBurstLimit"] == config.api_burst_limit
    for settings in method_settings(stage).values():
        # Execution logs (errors only), never request or response data.
        assert settings["DataTraceEnabled"] is False
        assert settings["LoggingLevel"] == "ERROR"
        assert settings["MetricsEnabled"] is True
    access_log = json.loads(
        props["AccessLogSetting"]["Format"].replace("$context.error.messageString", '"-"')
    )
    assert {"requestId", "ip", "status", "sub", "wafResponseCode"} <= set(access_log)


def test_every_route_that_calls_stripe_has_its_own_limit(stage: Stage) -> None:
    """Stripe limits the account: each route spending it is held below the stage's limit, the others
    (reads of our own tables, the webhook) share the stage's."""
    config = DEFAULTS[stage.name]
    stripe_routes = {
        (f.route.method, f.route.path) for f in catalog.api_functions() if f.route and calls_stripe(f)
    }
    assert {("POST", "/payments"), ("POST", "/payments/{payment_id}/refunds")} <= stripe_routes
    own = {key: m for key, m in method_settings(stage).items() if key != ("*", "/*")}
    assert set(own) == stripe_routes
    for settings in own.values():
        assert settings["ThrottlingRateLimit"] == config.stripe_route_rate_limit
        assert settings["ThrottlingBurstLimit"] == config.stripe_route_burst_limit
    assert config.stripe_route_rate_limit < config.api_rate_limit


def test_no_usage_plan_limits_nobody(stage: Stage) -> None:
    """No caller presents an API key: a usage plan would limit nothing, so there is none (nor a key)."""
    assert not stage.of_type("AWS::ApiGateway::UsagePlan")
    assert not stage.of_type("AWS::ApiGateway::ApiKey")
    for props in methods(stage).values():
        assert props.get("ApiKeyRequired") in (None, False)


def test_execution_logs_have_the_stages_retention(stage: Stage) -> None:
    group_id, group = stage.at("Api/ExecutionLogs/Resource")
    name = group["Properties"]["LogGroupName"]["Fn::Join"][1]
    api_id = stage.logical_id("Api/RestApi/Resource")
    assert name == ["API-Gateway-Execution-Logs_", {"Ref": api_id}, f"/{catalog.API_STAGE}"]
    assert group["Properties"]["RetentionInDays"] == DEFAULTS[stage.name].log_retention_days
    stage_resource = stage.at("Api/RestApi/DeploymentStage.v1/Resource")[1]
    assert group_id in stage_resource["DependsOn"]  # made before API Gateway would make it


def test_access_logs_have_the_stages_retention(stage: Stage) -> None:
    group = stage.at("Api/AccessLogs/Resource")[1]
    assert group["Properties"]["RetentionInDays"] == DEFAULTS[stage.name].log_retention_days


def test_waf_logs_every_request_without_the_authorization_header(stage: Stage) -> None:
    group_id, group = stage.at("Api/Firewall/Logs/Resource")
    config = DEFAULTS[stage.name]
    assert group["Properties"]["LogGroupName"] == f"aws-waf-logs-{config.physical_name(catalog.SERVICE_NAME)}"
    assert group["Properties"]["RetentionInDays"] == config.log_retention_days
    (logging,) = [r["Properties"] for r in stage.of_type("AWS::WAFv2::LoggingConfiguration").values()]
    (acl_id,) = stage.of_type("AWS::WAFv2::WebACL")
    assert ref(logging["ResourceArn"]) == f"{acl_id}.Arn"
    (destination,) = logging["LogDestinationConfigs"]
    # The group's ARN as WAF takes it: without CDK's trailing `:*`.
    assert ref(destination).endswith(f":log-group:{group_id}")
    assert logging["RedactedFields"] == [{"SingleHeader": {"Name": "authorization"}}]
    assert "LoggingFilter" not in logging  # every request, allowed or blocked


def test_gateway_errors_are_problem_details(stage: Stage) -> None:
    from payments.http.problems import PROBLEM_JSON, TYPE_BASE

    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in stage.of_type("AWS::ApiGateway::GatewayResponse").values()
    }
    assert {"UNAUTHORIZED", "ACCESS_DENIED", "THROTTLED", "BAD_REQUEST_PARAMETERS", "DEFAULT_5XX"} <= set(
        responses
    )
    for props in responses.values():
        assert props["ResponseParameters"]["gatewayresponse.header.Content-Type"] == f"'{PROBLEM_JSON}'"
        body = json.loads(
            props["ResponseTemplates"]["application/json"].replace("$context.error.messageString", '"-"')
        )
        assert body["type"] == TYPE_BASE + body["code"]


def test_waf_protects_the_stage(stage: Stage) -> None:
    (acl_id, acl) = next(iter(stage.of_type("AWS::WAFv2::WebACL").items()))
    (association,) = [r["Properties"] for r in stage.of_type("AWS::WAFv2::WebACLAssociation").values()]
    assert ref(association["WebACLArn"]) == f"{acl_id}.Arn"
    assert stage.logical_id("Api/RestApi/DeploymentStage.v1/Resource") in json.dumps(
        association["ResourceArn"]
    )
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "RatePerIp"} <= set(rules)
    assert (
        rules["RatePerIp"]["Statement"]["RateBasedStatement"]["Limit"] == DEFAULTS[stage.name].waf_rate_limit
    )
    webhook_path = f"/{catalog.API_STAGE}/webhooks/stripe"
    # Body-inspecting groups never look at the webhook (Stripe payloads must not be blocked).
    for name in ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"):
        scope_down = rules[name]["Statement"]["ManagedRuleGroupStatement"]["ScopeDownStatement"]
        assert scope_down["NotStatement"]["Statement"]["ByteMatchStatement"]["SearchString"] == webhook_path


def test_stripe_allow_list_in_prod_only(synth: Synth) -> None:
    prod_rules = next(iter(synth.prod.of_type("AWS::WAFv2::WebACL").values()))["Properties"]["Rules"]
    assert prod_rules[0]["Name"] == "StripeWebhookAllowList"
    assert prod_rules[0]["Action"] == {"Block": {}}
    (ip_set,) = synth.prod.of_type("AWS::WAFv2::IPSet").values()
    assert sorted(ip_set["Properties"]["Addresses"]) == sorted(f"{ip}/32" for ip in STRIPE_WEBHOOK_IPS)
    assert not synth.dev.of_type("AWS::WAFv2::IPSet")


def test_user_pool_admin_group_and_stage_security(stage: Stage) -> None:
    (group,) = [r["Properties"] for r in stage.of_type("AWS::Cognito::UserPoolGroup").values()]
    assert group["GroupName"] == catalog.ADMIN_GROUP
    pool = stage.at("Api/UserPool/Resource")[1]["Properties"]
    assert pool["MfaConfiguration"] == ("ON" if stage.name == "prod" else "OPTIONAL")
    client = stage.at("Api/UserPool/WebClient/Resource")[1]["Properties"]
    assert client.get("GenerateSecret") in (None, False)


def test_the_web_client_has_only_the_flows_the_frontends_use(stage: Stage) -> None:
    """SRP sign-in and refresh tokens; no password in the clear, no admin or custom flow, and no OAuth
    flow (the console's hosted sign-in has its own client, tests/infra/test_console.py)."""
    client = stage.at("Api/UserPool/WebClient/Resource")[1]["Properties"]
    assert sorted(client["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is False
    assert not {"AllowedOAuthFlows", "AllowedOAuthScopes", "CallbackURLs"} & set(client)
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["EnableTokenRevocation"] is True


def test_outputs(stage: Stage) -> None:
    outputs = stage.template["Outputs"]
    for name in ("ApiUrl", "WebhookUrl", "EventBusName", "EventBusArn", "UserPoolId", "UserPoolClientId"):
        assert name in outputs
    assert json.dumps(outputs["WebhookUrl"]["Value"]).endswith('"/webhooks/stripe"]]}')
    expected = {
        t
        for f in catalog.subscribers()
        if f.subscription and f.subscription.source == "stripe"
        for t in f.subscription.detail_types
    }
    assert set(outputs["StripeWebhookEvents"]["Value"].split(",")) == expected
