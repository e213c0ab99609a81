"""Where the operator tools act: a stage of the deployed stack, or the local stack, and how its
resources are named there.

A deployed stage's names come from infra/aws/naming.py (what the CDK stack names them); the local
stack's from infra/local/resources.py. Everything else is boto3, the same calls in both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from infra import catalog
from infra.aws import naming

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
STAGE = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
# A redrive waits for the function's answer: the longest timeout of the catalog, and some margin.
INVOKE_READ_TIMEOUT_S = max(f.timeout_s for f in catalog.FUNCTIONS) + 30


class OperationError(Exception):
    """A command cannot go on; the message says why and what to do. `exit_code` is the tool's."""

    exit_code = EXIT_FAILED


class BadInput(OperationError):
    """The operator named something that does not exist, or gave a value that cannot work."""

    exit_code = EXIT_BAD_INPUT


def rule_functions() -> list[catalog.Function]:
    """The functions a rule targets (subscribers and schedules): each has a dead-letter queue."""
    return [f for f in catalog.FUNCTIONS if f.subscription or f.schedule_minutes]


@dataclass(frozen=True)
class Deployment:
    description: str  # for the first line of every command's output
    bus: str
    function_name: Callable[[str], str]  # catalog name -> the function's name there
    dead_letter_queue_name: Callable[[str], str]
    # What a rule that delivers to the subscriber targets (its function, or locally its queue).
    rule_target_names: Callable[[str], frozenset[str]]
    session: Any  # boto3.session.Session
    default_endpoint: str | None = None
    endpoints: Mapping[str, str] = field(default_factory=dict)
    # What the service's own adapters need in this process to reach the same resources: locally moto's
    # address and its fake credentials, in AWS the session's region and profile.
    process_environment: Mapping[str, str] = field(default_factory=dict)
    archives_at_once: bool = False  # EventBridge takes minutes to archive an event; moto does it at once

    def client(self, service: str) -> Any:
        from botocore.config import Config

        read_timeout = INVOKE_READ_TIMEOUT_S if service == "lambda" else 60
        config = Config(retries={"mode": "standard", "max_attempts": 3}, read_timeout=read_timeout)
        endpoint = self.endpoints.get(service, self.default_endpoint)
        return self.session.client(service, endpoint_url=endpoint, config=config)

    def delivers_to(self, target_arn: str, subscriber: str) -> bool:
        return resource_name(target_arn) in self.rule_target_names(subscriber)


def aws(stage: str, region: str | None = None, profile: str | None = None) -> Deployment:
    """A deployed stage, through the operator's own credentials (profile, environment, SSO...)."""
    import boto3

    if not STAGE.match(stage):
        raise BadInput(f"--stage {stage!r} is not a stage name (dev, prod)")
    try:
        session = boto3.session.Session(profile_name=profile, region_name=region)
    except Exception as error:  # botocore's ProfileNotFound and kin
        raise BadInput(f"AWS session: {error}") from None
    if not session.region_name:
        raise BadInput("no AWS region: pass --region or set AWS_REGION (or the profile's region)")
    return Deployment(
        description=f"stage {stage} in {session.region_name}",
        bus=naming.physical_name(catalog.EVENT_BUS, stage),
        function_name=partial(naming.function_name, stage),
        dead_letter_queue_name=partial(naming.dead_letter_queue_name, stage),
        rule_target_names=lambda subscriber: frozenset({naming.function_name(stage, subscriber)}),
        session=session,
        # The service's adapters build their own clients: the same region and profile as the session's.
        process_environment={
            "AWS_REGION": session.region_name,
            "AWS_DEFAULT_REGION": session.region_name,
            **({"AWS_PROFILE": profile} if profile else {}),
        },
    )


def local(moto_url: str, dynamodb_url: str, api_url: str) -> Deployment:
    """The local stack `make dev` runs: moto for AWS (DynamoDB in a moto of its own), the gateway's
    Lambda API for the functions."""
    import boto3

    from infra.local import resources
    from infra.local.environment import FAKE_AWS, REGION, endpoint_variables
    from infra.local.lambda_api import LAMBDA_PATH

    session = boto3.session.Session(
        aws_access_key_id=FAKE_AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    gateway = api_url.rstrip("/").rsplit("/", 1)[0]  # the stage prefix off: the gateway's root

    def queues(name: str) -> tuple[str, str]:
        return resources.subscriber_queue_names(catalog.function(name))

    return Deployment(
        description=f"the local stack (moto {moto_url})",
        bus=resources.LOCAL_BUS,
        function_name=lambda name: name,  # the local workers run each catalog function by its name
        dead_letter_queue_name=lambda name: queues(name)[1],
        # Locally a rule delivers to the subscriber's queue, which the dispatcher drains.
        rule_target_names=lambda subscriber: frozenset({queues(subscriber)[0]}),
        session=session,
        default_endpoint=moto_url,
        endpoints={"lambda": gateway + LAMBDA_PATH, "dynamodb": dynamodb_url},
        process_environment={**FAKE_AWS, **endpoint_variables(moto_url, dynamodb_url)},
        archives_at_once=True,
    )


def resource_name(arn: str) -> str:
    """The named resource of an ARN: a function (without its qualifier), a queue, a rule."""
    parts = arn.split(":")
    if len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function":
        return parts[6]
    return parts[-1].rsplit("/", 1)[-1] if len(parts) >= 6 else arn


def error_text(error: Exception) -> str:
    """An AWS error as `Code: message`, anything else as its text."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        return f"{response['Error'].get('Code')}: {response['Error'].get('Message')}"
    return f"{type(error).__name__}: {error}"


def error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        return str(response["Error"].get("Code"))
    return None
