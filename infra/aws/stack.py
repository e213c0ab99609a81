"""The payments stack: one per stage, composed of a construct per concern."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from infra import catalog
from infra.aws.api import PaymentsApi
from infra.aws.config import StageConfig
from infra.aws.console import ConsoleSite
from infra.aws.events import PaymentEvents
from infra.aws.functions import Functions, Resources
from infra.aws.monitoring import Monitoring
from infra.aws.security import Security
from infra.aws.tables import Tables


class PaymentsStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, id_, description=f"{catalog.SERVICE_NAME} service ({config.stage})", **kwargs)
        self.config = config
        Tags.of(self).add("service", catalog.SERVICE_NAME)
        Tags.of(self).add("stage", config.stage)

        self.security = Security(self, "Security", config=config)
        self.tables = Tables(self, "Tables", config=config, key=self.security.key)
        self.events = PaymentEvents(self, "Events", config=config, key=self.security.key)
        self.functions = Functions(
            self,
            "Functions",
            config=config,
            resources=Resources(
                key=self.security.key,
                tables=self.tables.by_name,
                secrets=self.security.secrets,
                secret_names=self.security.secret_names,
                bus=self.events.bus,
            ),
        )
        for fn in self.functions.by_name.values():
            # A function may have both (reconcile: a daily run, and one per payout paid).
            if fn.spec.subscription:
                self.events.subscribe(fn)
            if fn.spec.schedule_minutes:
                self.events.schedule(fn)
        self.api = PaymentsApi(self, "Api", config=config, functions=self.functions.by_name)
        # The console signs in on our pool's hosted UI; an existing pool's owners would host theirs.
        self.console = (
            ConsoleSite(self, "Console", config=config, api=self.api, hosted_domain=self.api.hosted_domain)
            if self.api.hosted_domain
            else None
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            key=self.security.key,
            api=self.api,
            functions=self.functions.by_name,
            dead_letter_queues=self.events.dead_letter_queues,
        )
        self._outputs()

    def _outputs(self) -> None:
        webhook = next(f for f in catalog.api_functions() if f.route and not f.route.authorizer)
        assert webhook.route is not None
        outputs = {
            "ApiUrl": (self.api.base_url, "Base URL of the API (stage included)"),
            "WebhookUrl": (
                f"{self.api.base_url}{webhook.route.path.lstrip('/')}",
                "Register in Stripe (Developers > Webhooks) with the events of StripeWebhookEvents",
            ),
            "StripeWebhookEvents": (
                ",".join(catalog.forwarded_stripe_events()),
                "Stripe event types to enable on the webhook endpoint (what the subscribers handle)",
            ),
            "EventBusName": (self.events.bus.event_bus_name, "Bus other services subscribe to"),
            "EventBusArn": (self.events.bus.event_bus_arn, "Bus ARN, for cross-account rules and policies"),
            "UserPoolId": (self.api.user_pool.user_pool_id, "Cognito user pool of the authorizer"),
            "UserPoolClientId": (
                self.api.user_pool_client.user_pool_client_id,
                "App client for the frontends",
            ),
            "ServiceClientId": (
                self.api.service_client.user_pool_client_id,
                f"App client for other services: client credentials, scope {catalog.SERVICE_SCOPE} (its "
                "secret: aws cognito-idp describe-user-pool-client)",
            ),
            "AlarmTopicArn": (self.monitoring.topic.topic_arn, "Subscribe on-call here"),
        }
        if self.api.token_endpoint:
            outputs["TokenEndpoint"] = (
                self.api.token_endpoint,
                f"Services POST grant_type=client_credentials&scope={catalog.SERVICE_SCOPE} here",
            )
        if self.api.domain:
            outputs["CustomDomainTarget"] = (
                self.api.domain.domain_name_alias_domain_name,
                f"Point {self.config.domain_name} here (CNAME, or a Route 53 alias)",
            )
        if self.console:
            outputs["ConsoleUrl"] = (
                self.console.url,
                f"The back-office console: sign in as a member of the {catalog.ADMIN_GROUP} group",
            )
        for name, (value, description) in outputs.items():
            CfnOutput(self, name, value=value, description=description)
