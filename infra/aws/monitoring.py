"""Alarms (to one encrypted SNS topic) and the business dashboard.

Custom metrics come from the functions through Powertools (EMF in the logs): namespace
`catalog.METRICS_NAMESPACE`, dimensions `catalog.metric_dimensions(stage)` (`service` and `stage`, which
payments.observability puts on every metric), so the alarms and the dashboard of one stage read only it.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import catalog
from infra.aws.api import PaymentsApi
from infra.aws.config import StageConfig
from infra.aws.functions import PaymentFunction
from infra.aws.naming import construct_id

FIVE_MINUTES = Duration.minutes(5)
BUSINESS_COUNTS = ("PaymentsSucceeded", "PaymentsFailed", "RefundsIssued", "DisputesOpened")
# payments/application/fraud_signals.py and payment_intents.py (docs/risk.md, Radar and early fraud warnings).
RADAR_COUNTS = ("FraudWarnings", "FraudWarningRefunds", "RadarBlocked")
# Our checks before Stripe and their review holds (docs/risk.md, Checks before Stripe, Review holds):
# payments/application/process_payment.py, payment_intents.py and manage_payment.py.
RISK_COUNTS = ("RiskBlocked", "RiskHeld", "RiskApproved", "RiskRejected", "RiskExpired")
# Where our books and Stripe may disagree: each counts what should never happen, so any value above 0
# in 5 minutes alarms. No data is normal (JanitorUnsettled reports 0 each run, the others only on a hit).
MONEY_MISMATCHES: dict[str, str] = {
    "StrayCharges": (
        "Stripe holds a charge or authorization for one of our payments that our books do not: a second "
        "PaymentIntent for a payment, or a success after we recorded it failed or canceled."
    ),
    "JanitorUnsettled": "The janitor could not settle payments or refunds from Stripe's state.",
    "StripeMoneyFieldMissing": "A Stripe answer lacked a money field (amount_received, amount, ...).",
}
# Reported by every completed reconciliation run (payments/application/reconciliation.py).
RECONCILIATION_METRIC = "ReconciliationUnexplainedDifferences"
# Reported by every run of the dispute deadline watcher (payments/application/dispute_deadlines.py).
DISPUTES_PAST_DUE_METRIC = "DisputesPastDue"


def service_metric(
    name: str, statistic: str = "Sum", period: Duration = FIVE_MINUTES, *, stage: str
) -> cloudwatch.Metric:
    """One of the functions' own metrics, of `stage` alone: two stages in one account never mix."""
    return cloudwatch.Metric(
        namespace=catalog.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map=catalog.metric_dimensions(stage),
        statistic=statistic,
        period=period,
    )


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: StageConfig,
        key: kms.IKey,
        api: PaymentsApi,
        functions: Mapping[str, PaymentFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
    ) -> None:
        super().__init__(scope, id_)
        self._prefix = config.physical_name(catalog.SERVICE_NAME)
        self._stage = config.stage
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"{self._prefix} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        # enforce_ssl's deny replaces SNS's default policy, so nothing may publish unless allowed here:
        # CloudWatch, for this stack's alarms only (their names carry the prefix, see _alarm), and the
        # key it needs to publish to an encrypted topic, under the same conditions.
        cloudwatch_alarms = {
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
            "ArnLike": {
                "aws:SourceArn": Stack.of(self).format_arn(
                    service="cloudwatch",
                    resource="alarm",
                    resource_name=f"{self._prefix}-*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            },
        }
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=cloudwatch_alarms,
            )
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsUseKeyForTopic",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions=cloudwatch_alarms,
            )
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        stage = api.rest_api.deployment_stage
        self._alarm(
            "Api5xx",
            stage.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
            threshold=config.alarm_api_5xx_per_5min,
            description="The API answered 5xx (function errors, timeouts, integration failures).",
        )
        for name, fn in functions.items():
            self._alarm(
                f"{construct_id(name)}Errors",
                fn.function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                threshold=config.alarm_function_errors_per_5min,
                description=f"{name} raised errors.",
            )
            self._alarm(
                f"{construct_id(name)}Throttles",
                fn.function.metric_throttles(period=FIVE_MINUTES, statistic="Sum"),
                threshold=1,
                description=f"{name} was throttled (account or reserved concurrency exhausted).",
            )
        for name, queue in dead_letter_queues.items():
            self._alarm(
                f"{construct_id(name)}DeadLetters",
                queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                threshold=1,
                description=f"An event for {name} was given up on; inspect and redrive the queue.",
            )
        self._alarm(
            "OutboxOldestUnpublished",
            service_metric("OutboxOldestUnpublishedSeconds", "Maximum", stage=self._stage),
            threshold=config.alarm_outbox_oldest_seconds,
            description="Domain events are waiting to be published; subscribers are behind.",
            # The relay reports on every run (0 when the outbox is empty): silence means it stopped.
            missing=cloudwatch.TreatMissingData.BREACHING,
        )
        self._alarm(
            "WebhookSignatureFailures",
            service_metric("WebhookSignatureFailures", stage=self._stage),
            threshold=config.alarm_webhook_signature_failures_per_5min,
            description="Webhook requests failed signature checks: a new secret not yet stored, or probing.",
        )
        for metric, description in MONEY_MISMATCHES.items():
            self._alarm(
                metric,
                service_metric(metric, stage=self._stage),
                threshold=0,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                description=description,
            )
        # Every completed run reports its count (0 when clean); runs are hours apart, so missing data
        # keeps the last state: in alarm from a run with unexplained differences until a clean one.
        self._alarm(
            RECONCILIATION_METRIC,
            service_metric(RECONCILIATION_METRIC, "Maximum", stage=self._stage),
            threshold=0,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            missing=cloudwatch.TreatMissingData.IGNORE,
            description=(
                "A reconciliation run found differences between the ledger and Stripe that timing does not "
                "explain: see GET /v1/reconciliation/runs (and its differences as CSV)."
            ),
        )
        # Disputes still waiting for our evidence after Stripe's deadline. The watcher reports every 15
        # minutes, 0 included: an hour without a report means it stopped, which alarms too.
        self._alarm(
            DISPUTES_PAST_DUE_METRIC,
            service_metric(DISPUTES_PAST_DUE_METRIC, "Maximum", Duration.hours(1), stage=self._stage),
            threshold=0,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            missing=cloudwatch.TreatMissingData.BREACHING,
            description=(
                "Disputes needing a response are past Stripe's evidence deadline: see "
                "GET /v1/disputes?status=needs_response (docs/disputes.md)."
            ),
        )
        self.dashboard = self._dashboard(api)

    def _alarm(
        self,
        id_: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
        comparison: cloudwatch.ComparisonOperator = (
            cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        ),
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            id_,
            alarm_name=f"{self._prefix}-{id_}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=comparison,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        alarm.add_ok_action(cw_actions.SnsAction(self.topic))
        self.alarms[id_] = alarm
        return alarm

    def _dashboard(self, api: PaymentsApi) -> cloudwatch.Dashboard:
        stage = api.rest_api.deployment_stage
        lag = [service_metric("WebhookLagSeconds", s, stage=self._stage) for s in ("p50", "p99", "Maximum")]
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=self._prefix)
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Payments",
                left=[service_metric(n, stage=self._stage) for n in BUSINESS_COUNTS[:2]],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Refunds and disputes",
                left=[service_metric(n, stage=self._stage) for n in BUSINESS_COUNTS[2:]],
                right=[service_metric(DISPUTES_PAST_DUE_METRIC, "Maximum", stage=self._stage)],
                width=8,
            ),
            cloudwatch.GraphWidget(title="Webhook lag (s): Stripe event to bus", left=lag, width=8),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[
                    stage.metric_count(period=FIVE_MINUTES),
                    stage.metric_client_error(period=FIVE_MINUTES),
                    stage.metric_server_error(period=FIVE_MINUTES),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="API latency (ms)",
                left=[stage.metric_latency(period=FIVE_MINUTES, statistic=s) for s in ("p50", "p99")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Outbox and webhook signatures",
                left=[service_metric("OutboxOldestUnpublishedSeconds", "Maximum", stage=self._stage)],
                right=[service_metric("WebhookSignatureFailures", stage=self._stage)],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Stripe Radar: early fraud warnings (and their refunds), blocked charges",
                left=[service_metric(n, stage=self._stage) for n in RADAR_COUNTS],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Risk checks: payments blocked, held for review, and how holds were decided",
                left=[service_metric(n, stage=self._stage) for n in RISK_COUNTS],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24)
        )
        return dashboard
