"""The public REST API: Cognito, the catalog's routes, validation, throttling, logs and WAF.

Throttling: the stage's limits apply to every method, for all callers together; each route that calls
Stripe has a tighter limit of its own (Stripe limits the whole account); WAF limits each client address
(waf.py). There is no usage plan: no caller presents an API key, so a plan would limit nobody.

Stripe's webhook is the one route without the authorizer: its body must reach the function byte for byte
(the signature covers it), so it has no body model, no mapping template and no binary media type (and
the firewall's body-inspecting rules skip it, see waf.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import catalog
from infra.aws.config import StageConfig
from infra.aws.functions import PaymentFunction
from infra.aws.nag import acknowledge
from infra.aws.waf import WebFirewall
from payments.http.problems import PROBLEM_JSON, problem_body

# What API Gateway fills into a gateway response's body; it quotes the message itself.
ERROR_MESSAGE = "$context.error.messageString"
REQUEST_ID = "$context.requestId"
# The members in the order the deployed templates have always had: another order would be a redeploy.
TEMPLATE_MEMBERS = ("type", "title", "code", "status", "detail", "request_id")
# JSON access log; every value is quoted except messageString, which API Gateway quotes itself.
ACCESS_LOG_FIELDS = {
    "requestId": '"$context.requestId"',
    "extendedRequestId": '"$context.extendedRequestId"',
    "time": '"$context.requestTime"',
    "ip": '"$context.identity.sourceIp"',
    "userAgent": '"$context.identity.userAgent"',
    "method": '"$context.httpMethod"',
    "resource": '"$context.resourcePath"',
    "path": '"$context.path"',
    "status": '"$context.status"',
    "responseLength": '"$context.responseLength"',
    "latencyMs": '"$context.responseLatency"',
    "integrationLatencyMs": '"$context.integrationLatency"',
    "integrationStatus": '"$context.integration.status"',
    "sub": '"$context.authorizer.claims.sub"',
    "wafResponseCode": '"$context.wafResponseCode"',
    "xrayTraceId": '"$context.xrayTraceId"',
    "error": "$context.error.messageString",
}


def problem_template(response: catalog.GatewayResponse) -> str:
    """The gateway response's problem body as a mapping template."""
    body = problem_body(
        response.status or 0, response.code, response.title, ERROR_MESSAGE, request_id=REQUEST_ID
    )
    if response.status is None:
        del body["status"]  # API Gateway keeps its own, which a template cannot know
    ordered = {name: body[name] for name in TEMPLATE_MEMBERS if name in body}
    return json.dumps(ordered, separators=(",", ":")).replace(json.dumps(ERROR_MESSAGE), ERROR_MESSAGE)


def calls_stripe(spec: catalog.Function) -> bool:
    """A route whose function holds the Stripe API key: each request spends Stripe's per-account rate."""
    return spec.route is not None and catalog.STRIPE_API_KEY in spec.secrets


def method_options_path(spec: catalog.Function) -> str:
    """The route as StageOptions.method_options names it: `/payments/{payment_id}/refunds/POST`."""
    assert spec.route is not None
    return f"{spec.route.path}/{spec.route.method}"


def _path_parameters(path: str) -> dict[str, bool]:
    return {f"method.request.path.{name}": True for name in re.findall(r"\{(\w+)\}", path)}


def web_client(pool: cognito.IUserPool) -> cognito.UserPoolClient:
    """The frontends' app client, with only the flows they use: SRP sign-in (the password never leaves
    the browser) and refresh tokens (CDK adds ALLOW_REFRESH_TOKEN_AUTH to every client); no OAuth flow.
    The back-office console and other services have clients of their own."""
    return pool.add_client(
        "WebClient",
        auth_flows=cognito.AuthFlow(user_srp=True),
        generate_secret=False,  # a browser or app client cannot keep a secret
        prevent_user_existence_errors=True,
        enable_token_revocation=True,
        disable_o_auth=True,
        supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
    )


def console_client(pool: cognito.IUserPool, *, console_url: str) -> cognito.UserPoolClient:
    """The back-office console's app client: the hosted sign-in's authorization code flow alone (never
    the implicit grant: tokens in the URL), back to the console's own URL only; no password flow of its
    own (the hosted UI signs people in). Public: a page cannot keep a secret. Cognito accepts a public
    client's code without PKCE, so the console always sends an S256 code_challenge. Its access tokens carry
    USER_SCOPE, which the API's authorizer takes; the admin group's rights come from `cognito:groups`
    (payments/http/auth.py). Short tokens: a stolen one is worth little; a session lasts 12 hours."""
    return pool.add_client(
        "ConsoleClient",
        auth_flows=cognito.AuthFlow(user_srp=False),
        generate_secret=False,
        prevent_user_existence_errors=True,
        enable_token_revocation=True,
        o_auth=cognito.OAuthSettings(
            flows=cognito.OAuthFlows(authorization_code_grant=True),
            scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.COGNITO_ADMIN],
            callback_urls=[console_url],
            logout_urls=[console_url],
        ),
        supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
        access_token_validity=Duration.minutes(15),
        id_token_validity=Duration.minutes(15),
        refresh_token_validity=Duration.hours(12),
    )


def service_client(pool: cognito.IUserPool) -> cognito.UserPoolClient:
    """Other services' app client: the client-credentials flow only, for the one scope SERVICE_SCOPE of
    the resource server RESOURCE_SERVER; no user flows (CDK still lists ALLOW_REFRESH_TOKEN_AUTH, which
    this flow never uses: it issues no refresh token). Its tokens have no user: the functions see the
    client's id as `sub` (payments/http/auth.py)."""
    scope = cognito.ResourceServerScope(
        scope_name=catalog.SERVICE_SCOPE_NAME,
        scope_description="Call the payments API as a trusted service: act for any customer",
    )
    server = pool.add_resource_server("ResourceServer", identifier=catalog.RESOURCE_SERVER, scopes=[scope])
    return pool.add_client(
        "ServiceClient",
        generate_secret=True,  # held by the calling service's back end, never by a browser
        auth_flows=cognito.AuthFlow(user_srp=False),
        o_auth=cognito.OAuthSettings(
            flows=cognito.OAuthFlows(client_credentials=True),
            scopes=[cognito.OAuthScope.resource_server(server, scope)],
        ),
        supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
        prevent_user_existence_errors=True,
        enable_token_revocation=True,
        access_token_validity=Duration.hours(1),
    )


def hosted_domain(pool: cognito.IUserPool, config: StageConfig) -> cognito.UserPoolDomain | None:
    """Cognito's domain on our own pool: services' token endpoint and the console's hosted sign-in (an
    existing pool's owners run its domain, and hand out its endpoints)."""
    if not isinstance(pool, cognito.UserPool):
        return None
    return pool.add_domain(
        "Domain",
        cognito_domain=cognito.CognitoDomainOptions(
            domain_prefix=f"{config.physical_name(catalog.SERVICE_NAME)}-{Aws.ACCOUNT_ID}"
        ),
    )


class PaymentsApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: StageConfig,
        functions: Mapping[str, PaymentFunction],
    ) -> None:
        super().__init__(scope, id_)
        self._config = config
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        self.user_pool = self._user_pool(removal)
        self.user_pool_client = web_client(self.user_pool)
        self.service_client = service_client(self.user_pool)
        self.hosted_domain = hosted_domain(self.user_pool, config)
        # Where services get their tokens (client credentials).
        self.token_endpoint = f"{self.hosted_domain.base_url()}/oauth2/token" if self.hosted_domain else None

        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=config.log_retention,
            removal_policy=removal,
        )
        stripe_routes = [fn.spec for fn in functions.values() if calls_stripe(fn.spec)]
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=config.physical_name(catalog.SERVICE_NAME),
            description=f"{catalog.SERVICE_NAME} API ({config.stage})",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Bodies stay text: no binary media types, so the webhook's raw JSON arrives untouched.
            binary_media_types=list(catalog.BINARY_MEDIA_TYPES),
            # Execution and access logs need the account-level CloudWatch role; keep it if the stack goes.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=catalog.API_STAGE,
                throttling_rate_limit=config.api_rate_limit,
                throttling_burst_limit=config.api_burst_limit,
                # Errors only, never request/response data: bodies carry personal and payment data.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                method_options={
                    method_options_path(spec): apigw.MethodDeploymentOptions(
                        throttling_rate_limit=config.stripe_route_rate_limit,
                        throttling_burst_limit=config.stripe_route_burst_limit,
                        # A method's own settings replace the stage's: the same logging, repeated.
                        logging_level=apigw.MethodLoggingLevel.ERROR,
                        data_trace_enabled=False,
                        metrics_enabled=True,
                    )
                    for spec in stripe_routes
                },
                tracing_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.custom(
                    "{" + ",".join(f'"{k}":{v}' for k, v in ACCESS_LOG_FIELDS.items()) + "}"
                ),
            ),
        )
        cloud_watch_role = self.rest_api.node.find_child("CloudWatchRole")
        acknowledge(
            cloud_watch_role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level logging role: AWS's own managed policy for exactly this purpose.",
        )
        for response in catalog.GATEWAY_RESPONSES:
            self.rest_api.add_gateway_response(
                f"Problem{response.response_type}",
                type=apigw.ResponseType.of(response.response_type),
                status_code=str(response.status) if response.status else None,
                response_headers={"Content-Type": f"'{PROBLEM_JSON}'"},
                templates={"application/json": problem_template(response)},
            )

        authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            cognito_user_pools=[self.user_pool],
            identity_source="method.request.header.Authorization",
        )
        # Parameters (path, Stripe-Signature) are checked here; bodies by the handlers' models. No method
        # has a request model, so body validation never reads or rewrites a body.
        validator = self.rest_api.add_request_validator(
            "Validator",
            validate_request_parameters=True,
            validate_request_body=True,
        )
        self.methods: dict[str, apigw.Method] = {}
        for fn in functions.values():
            route = fn.spec.route
            if route is None:
                continue
            parameters = _path_parameters(route.path)
            if not route.authorizer:
                # Stripe always signs; anything unsigned is refused before it costs an invocation.
                parameters["method.request.header.Stripe-Signature"] = True
            method = self.rest_api.root.resource_for_path(route.path).add_method(
                route.method,
                apigw.LambdaIntegration(fn.target, proxy=True, allow_test_invoke=False),
                authorization_type=(
                    apigw.AuthorizationType.COGNITO if route.authorizer else apigw.AuthorizationType.NONE
                ),
                authorizer=authorizer if route.authorizer else None,
                # With scopes the authorizer takes access tokens holding one of them (never ID tokens):
                # people's (USER_SCOPE) and services' (SERVICE_SCOPE) alike (catalog.API_SCOPES).
                authorization_scopes=list(catalog.API_SCOPES) if route.authorizer else None,
                request_validator=validator,
                request_parameters=parameters,
            )
            if not route.authorizer:
                reason = (
                    "Stripe's webhook cannot present a Cognito token: the function verifies the "
                    "Stripe-Signature HMAC over the raw body (and WAF can allow-list Stripe's addresses)."
                )
                acknowledge(method, "AwsSolutions-APIG4", reason)
                acknowledge(method, "AwsSolutions-COG4", reason)
            self.methods[fn.spec.name] = method

        self._execution_logs(removal)
        open_paths = [
            f"/{catalog.API_STAGE}{fn.spec.route.path}"
            for fn in functions.values()
            if fn.spec.route and not fn.spec.route.authorizer
        ]
        self.firewall = WebFirewall(
            self, "Firewall", config=config, stage=self.rest_api.deployment_stage, open_paths=open_paths
        )
        self.domain = self._custom_domain()
        self.base_url = (
            f"https://{config.domain_name}/{catalog.API_STAGE}/" if self.domain else self.rest_api.url
        )
        # The scheme and host of base_url: what a browser page must be allowed to connect to.
        self.origin = (
            f"https://{config.domain_name}"
            if self.domain
            else f"https://{self.rest_api.rest_api_id}.execute-api.{Stack.of(self).region}.{Stack.of(self).url_suffix}"
        )

    def _execution_logs(self, removal: RemovalPolicy) -> logs.LogGroup:
        """The stage's execution log group, made here so it has a retention (API Gateway would create it
        at the first log line, kept forever). Its name is API Gateway's own for this API and stage."""
        stage = self.rest_api.deployment_stage
        group = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"API-Gateway-Execution-Logs_{self.rest_api.rest_api_id}/{catalog.API_STAGE}",
            retention=self._config.log_retention,
            removal_policy=removal,
        )
        # Exists before the stage logs anything, so API Gateway never creates it first.
        stage.node.add_dependency(group)
        return group

    def _user_pool(self, removal: RemovalPolicy) -> cognito.IUserPool:
        config = self._config
        if config.user_pool_id:
            # An existing pool (e.g. the shop's): its `payments-admin` group is managed there.
            return cognito.UserPool.from_user_pool_id(self, "UserPool", config.user_pool_id)
        pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=config.physical_name(catalog.SERVICE_NAME),
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
            ),
            mfa=cognito.Mfa.REQUIRED if config.mfa_required else cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            feature_plan=cognito.FeaturePlan.PLUS if config.cognito_plus else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION
            if config.cognito_plus
            else None,
            deletion_protection=config.deletion_protection,
            removal_policy=removal,
        )
        cognito.CfnUserPoolGroup(
            self,
            "AdminGroup",
            user_pool_id=pool.user_pool_id,
            group_name=catalog.ADMIN_GROUP,
            description="Back-office staff: capture, cancel and refund any payment",
        )
        if not config.mfa_required:
            acknowledge(
                pool,
                "AwsSolutions-COG2",
                f"Stage {config.stage}: MFA is optional so test users can sign in from scripts; "
                "prod requires it.",
            )
        if not config.cognito_plus:
            acknowledge(
                pool,
                "AwsSolutions-COG8",
                f"Stage {config.stage}: the Plus plan (threat protection) is billed per user; prod uses it.",
            )
        return pool

    def _custom_domain(self) -> apigw.DomainName | None:
        config = self._config
        if not (config.domain_name and config.certificate_arn):
            return None
        domain = apigw.DomainName(
            self,
            "Domain",
            domain_name=config.domain_name,
            certificate=acm.Certificate.from_certificate_arn(self, "Certificate", config.certificate_arn),
            endpoint_type=apigw.EndpointType.REGIONAL,
            security_policy=apigw.SecurityPolicy.TLS_1_2,
        )
        # The base path is the stage name, so URLs read the same as on the default endpoint: /v1/...
        apigw.BasePathMapping(
            self,
            "BasePath",
            domain_name=domain,
            rest_api=self.rest_api,
            stage=self.rest_api.deployment_stage,
            base_path=catalog.API_STAGE,
        )
        return domain
