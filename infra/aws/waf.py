"""The API's web ACL: AWS managed rule groups, a per-IP rate limit, and optionally Stripe's addresses as
the only callers of the webhook; its log (Authorization redacted), kept as long as the stage's logs.

The body-inspecting groups skip the unauthenticated (webhook) paths: a Stripe event quoting a customer's
text must not be blocked (Stripe would retry for days, then disable the endpoint), and its size is API
Gateway's to limit. The webhook is protected by its signature, and by the allow-list where enabled.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra import catalog
from infra.aws.config import StageConfig

# Stripe's webhook source addresses (https://stripe.com/files/ips/ips_webhooks.txt; Stripe announces
# changes 7 days ahead on its api-announce list). Context `stripe_webhook_ips` replaces the list.
STRIPE_WEBHOOK_IPS = (
    "3.18.12.63",
    "3.69.109.8",
    "3.120.168.93",
    "3.130.192.231",
    "13.235.14.237",
    "13.235.122.149",
    "18.211.135.69",
    "35.154.171.200",
    "35.157.207.129",
    "52.15.183.38",
    "54.88.130.119",
    "54.88.130.237",
    "54.187.174.169",
    "54.187.205.235",
    "54.187.216.72",
)
Statement = wafv2.CfnWebACL.StatementProperty
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"
# Headers never written to the WAF log: the caller's bearer token.
REDACTED_HEADERS = ("authorization",)


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def _uri_is(path: str, positional: str = "EXACTLY") -> Statement:
    return Statement(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
            positional_constraint=positional,
            search_string=path,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


def _not(statement: Statement) -> Statement:
    return Statement(not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=statement))


def _any_of(statements: list[Statement]) -> Statement:
    if len(statements) == 1:
        return statements[0]
    return Statement(or_statement=wafv2.CfnWebACL.OrStatementProperty(statements=statements))


def _managed_group(
    name: str,
    scope_down: Statement | None = None,
    count_only: tuple[str, ...] = (),
) -> Statement:
    return Statement(
        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
            vendor_name="AWS",
            name=name,
            scope_down_statement=scope_down,
            rule_action_overrides=[
                wafv2.CfnWebACL.RuleActionOverrideProperty(
                    name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                )
                for rule in count_only
            ]
            or None,
        )
    )


class WebFirewall(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: StageConfig,
        stage: apigw.Stage,
        open_paths: Sequence[str],
    ) -> None:
        """`open_paths`: full request paths (stage included) of the routes without the authorizer."""
        super().__init__(scope, id_)
        self._config = config
        self.web_acl = self._web_acl(list(open_paths))
        wafv2.CfnWebACLAssociation(
            self, "Association", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn
        )
        self.log_group = self._logging()

    def _logging(self) -> logs.LogGroup:
        """Every request the web ACL sees, with the rule that decided, kept as long as the other logs.
        The Authorization header (a bearer token) is replaced by REDACTED before the log is written."""
        config = self._config
        group = logs.LogGroup(
            self,
            "Logs",
            # WAF logs only to log groups whose name starts so.
            log_group_name=f"{WAF_LOG_GROUP_PREFIX}{config.physical_name(catalog.SERVICE_NAME)}",
            retention=config.log_retention,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        logging = wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.attr_arn,
            # The group's ARN without the `:*` CDK's log_group_arn ends in, as WAF wants it.
            log_destination_configs=[
                Stack.of(self).format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=group.log_group_name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
                for header in REDACTED_HEADERS
            ],
        )
        logging.node.add_dependency(group)
        return group

    def _web_acl(self, open_paths: list[str]) -> wafv2.CfnWebACL:
        """AWS managed groups, a per-IP rate limit and, optionally, Stripe's addresses on the webhook."""
        config = self._config
        rules: list[wafv2.CfnWebACL.RuleProperty] = []

        def add(name: str, statement: Statement, *, managed: bool = False) -> None:
            rules.append(
                wafv2.CfnWebACL.RuleProperty(
                    name=name,
                    priority=len(rules),
                    statement=statement,
                    action=None if managed else wafv2.CfnWebACL.RuleActionProperty(block={}),
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}) if managed else None,
                    visibility_config=_visibility(name),
                )
            )

        allowlist = config.stripe_ip_allowlist and bool(open_paths)
        if allowlist:
            ip_set = wafv2.CfnIPSet(
                self,
                "StripeWebhookIps",
                scope="REGIONAL",
                ip_address_version="IPV4",
                addresses=[f"{ip}/32" for ip in (config.stripe_webhook_ips or STRIPE_WEBHOOK_IPS)],
                description="Stripe webhook source addresses",
            )
            from_stripe = Statement(
                ip_set_reference_statement=wafv2.CfnWebACL.IPSetReferenceStatementProperty(
                    arn=ip_set.attr_arn
                )
            )
            to_webhook = _any_of([_uri_is(p, "STARTS_WITH") for p in open_paths])
            add(
                "StripeWebhookAllowList",
                Statement(
                    and_statement=wafv2.CfnWebACL.AndStatementProperty(
                        statements=[to_webhook, _not(from_stripe)]
                    )
                ),
            )
        not_open = _not(_any_of([_uri_is(p) for p in open_paths])) if open_paths else None
        add(
            "AWSManagedRulesAmazonIpReputationList",
            _managed_group("AWSManagedRulesAmazonIpReputationList"),
            managed=True,
        )
        add(
            "RatePerIp",
            Statement(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    aggregate_key_type="IP",
                    limit=config.waf_rate_limit,
                    # With the allow-list on, only Stripe reaches the webhook: its bursts are not rated.
                    scope_down_statement=not_open if allowlist else None,
                )
            ),
        )
        # Body-inspecting groups skip the webhook (see the module docstring).
        add(
            "AWSManagedRulesCommonRuleSet",
            _managed_group(
                "AWSManagedRulesCommonRuleSet",
                not_open,
                # Payment metadata (20 pairs of up to 500 chars) may exceed this rule's 8 KB body limit.
                count_only=("SizeRestrictions_BODY",),
            ),
            managed=True,
        )
        add(
            "AWSManagedRulesKnownBadInputsRuleSet",
            _managed_group("AWSManagedRulesKnownBadInputsRuleSet", not_open),
            managed=True,
        )
        return wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            description=f"{catalog.SERVICE_NAME} API - {config.stage} stage",
            rules=rules,
            visibility_config=_visibility(f"{config.physical_name(catalog.SERVICE_NAME)}-api"),
        )
