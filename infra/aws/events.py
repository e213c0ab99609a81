"""The `payments` event bus, its archive, and the rules that feed the catalog's subscribers and jobs.

Every rule target gets a retry policy and its own SQS dead-letter queue. The same queue is the function's
asynchronous on-failure destination: EventBridge invokes Lambda asynchronously, so an event the handler
keeps failing on is dropped by Lambda, not EventBridge, unless Lambda has somewhere to put it.
"""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import catalog
from infra.aws.config import StageConfig
from infra.aws.functions import PaymentFunction
from infra.aws.nag import acknowledge
from infra.aws.naming import construct_id, dead_letter_queue_name

# EventBridge retries delivery with backoff for up to a day; Lambda then retries a failing handler twice.
DELIVERY_RETRY_ATTEMPTS = 185
DELIVERY_MAX_EVENT_AGE = Duration.hours(24)
HANDLER_RETRY_ATTEMPTS = 2
DLQ_RETENTION = Duration.days(14)


@jsii.implements(lambda_.IDestination)
class DeadLetterDestination:
    """Lambda's on-failure destination in an SQS queue, granting only sqs:SendMessage (CDK's SqsDestination
    also grants GetQueueAttributes and GetQueueUrl, which Lambda does not need)."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(
        self,
        scope: Construct,
        fn: lambda_.IFunction,
        options: Any = None,  # jsii passes the DestinationOptions struct positionally
        *,
        type: Any = None,  # the interface names it so
    ) -> lambda_.DestinationConfig:
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self._queue.queue_arn])
        )
        return lambda_.DestinationConfig(destination=self._queue.queue_arn)


def event_pattern(pattern: dict[str, list[str]]) -> events.EventPattern:
    """The catalog's pattern (`source`, `detail-type`, ...) as CDK's EventPattern, key for key."""
    fields: dict[str, Any] = {key.replace("-", "_"): value for key, value in pattern.items()}
    return events.EventPattern(**fields)


class PaymentEvents(Construct):
    def __init__(self, scope: Construct, id_: str, *, config: StageConfig, key: kms.IKey) -> None:
        super().__init__(scope, id_)
        self._config = config
        # The service's key encrypts the events (custom events: ours and Stripe's), the rules' patterns
        # and targets, and the archive; CDK adds the key policy statements EventBridge needs, each
        # conditioned on this bus. Publishers need no key permission: EventBridge encrypts.
        bus_name = config.physical_name(catalog.EVENT_BUS)
        self.bus = events.EventBus(self, "Bus", event_bus_name=bus_name, kms_key=key)
        # Both sources are archived, so any subscriber can be replayed after a fix.
        # Archive, not bus.archive(): CDK 2.275's EventBus.archive() drops kms_key. Same scope and id, so
        # the same logical id as before (a replaced archive would lose what it holds). The bus is named by
        # its formatted ARN: the key's policy for the archive names the bus, and a reference to the bus
        # (which names the key) would make the two depend on each other.
        bus_arn = Stack.of(self).format_arn(service="events", resource="event-bus", resource_name=bus_name)
        self.archive = events.Archive(
            self.bus,
            "Archive",
            source_event_bus=events.EventBus.from_event_bus_arn(self, "BusByArn", bus_arn),
            description="Stripe and domain events on the payments bus, for replays",
            event_pattern=events.EventPattern(source=list(catalog.ARCHIVED_SOURCES)),
            retention=Duration.days(config.archive_retention_days),
            kms_key=key,
        )
        self.archive.node.add_dependency(self.bus)
        self.dead_letter_queues: dict[str, sqs.Queue] = {}

    def subscribe(self, fn: PaymentFunction) -> events.Rule:
        """A rule on the bus with the catalog's pattern, targeting `fn`."""
        subscription = fn.spec.subscription
        assert subscription is not None, f"{fn.spec.name} has no subscription in the catalog"
        rule = events.Rule(
            self,
            f"{construct_id(fn.spec.name)}Rule",
            event_bus=self.bus,
            description=f"{fn.spec.name}: {fn.spec.description}",
            event_pattern=event_pattern(subscription.pattern()),
        )
        return self._add_target(rule, fn)

    def schedule(self, fn: PaymentFunction) -> events.Rule:
        """A scheduled rule (on the default bus, where schedules live) running `fn`."""
        assert fn.spec.schedule_minutes, f"{fn.spec.name} has no schedule in the catalog"
        rule = events.Rule(
            self,
            f"{construct_id(fn.spec.name)}Schedule",
            description=f"{fn.spec.name}: {fn.spec.description}",
            schedule=events.Schedule.rate(Duration.minutes(fn.spec.schedule_minutes)),
        )
        return self._add_target(rule, fn)

    def _add_target(self, rule: events.Rule, fn: PaymentFunction) -> events.Rule:
        dlq = self._dead_letters(fn)
        rule.add_target(
            targets.LambdaFunction(
                fn.target,
                dead_letter_queue=dlq,
                retry_attempts=DELIVERY_RETRY_ATTEMPTS,
                max_event_age=DELIVERY_MAX_EVENT_AGE,
            )
        )
        return rule

    def _dead_letters(self, fn: PaymentFunction) -> sqs.Queue:
        """The function's one dead-letter queue, for every rule that targets it and its async invokes."""
        name = fn.spec.name
        if name in self.dead_letter_queues:
            return self.dead_letter_queues[name]
        dlq = sqs.Queue(
            self,
            f"{construct_id(name)}DeadLetters",
            queue_name=dead_letter_queue_name(self._config.stage, name),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        acknowledge(
            dlq,
            "AwsSolutions-SQS3",
            f"This queue is itself the dead-letter queue of {name} (EventBridge target and async invokes).",
        )
        fn.target.configure_async_invoke(
            on_failure=DeadLetterDestination(dlq),
            retry_attempts=HANDLER_RETRY_ATTEMPTS,
            max_event_age=Duration.hours(6),
        )
        self.dead_letter_queues[name] = dlq
        return dlq
