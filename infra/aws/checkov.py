"""The checkov findings the stack keeps, each with why: the one reviewed list.

checkov (tools/checkov: its own environment) scans the synthesized templates of every stage in
tests/infra/test_checkov.py. Every finding must match one acknowledgment here, and every acknowledgment
must still match a finding: a new finding fails the test until it is fixed or written down here, and a
fixed one takes its acknowledgment with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from infra.aws.console import NO_ACCESS_LOGS


@dataclass(frozen=True)
class Acknowledgment:
    check: str  # checkov's id, e.g. CKV_AWS_117
    resource_type: str  # the CloudFormation type it is acknowledged on
    reason: str
    # Construct paths below the stack (fnmatch patterns, e.g. `Api/RestApi/Default/webhooks/*`) it is
    # limited to; empty: every resource of the type.
    paths: tuple[str, ...] = ()

    def covers(self, check: str, resource_type: str, path: str) -> bool:
        return (
            check == self.check
            and resource_type == self.resource_type
            and (not self.paths or any(fnmatchcase(path, pattern) for pattern in self.paths))
        )


_WEBHOOK = (
    "Stripe's webhook cannot present a Cognito token: the function verifies the Stripe-Signature HMAC "
    "over the raw body (and in prod WAF admits only Stripe's addresses on that path); cdk-nag APIG4/COG4 "
    "are acknowledged on the same method."
)

ACKNOWLEDGMENTS: tuple[Acknowledgment, ...] = (
    Acknowledgment(
        "CKV_AWS_115",
        "AWS::Lambda::Function",
        "No reserved concurrency: it would carve each function's share out of the account's pool and "
        "throttle it below what the pool allows. Load is bounded before the functions (API Gateway's stage "
        "and per-route limits, WAF's per-address rule) and asynchronous work retries (EventBridge for a "
        "day, then a dead-letter queue); docs/scaling.md sizes the account's concurrency. CDK's "
        "BucketDeployment function (the console's pages) runs once per deployment.",
    ),
    Acknowledgment(
        "CKV_AWS_116",
        "AWS::Lambda::Function",
        "A DeadLetterConfig only receives asynchronous invocations. API functions are invoked "
        "synchronously (the caller gets the error); subscribers and schedules send what they give up on "
        "to their own SQS queue as the on-failure destination (AWS::Lambda::EventInvokeConfig), which "
        "also keeps the error, and their rules have the same queue as dead-letter queue. CloudFormation "
        "invokes CDK's BucketDeployment function as a custom resource and fails the deployment on its "
        "error.",
    ),
    Acknowledgment(
        "CKV_AWS_117",
        "AWS::Lambda::Function",
        "The functions reach only AWS APIs (DynamoDB, EventBridge, Secrets Manager, X-Ray) and Stripe, "
        "all over TLS and authorized per call; nothing they use lives in a VPC. A VPC would add NAT "
        "gateways for Stripe (cost, a per-zone failure point) and no control that IAM does not give. "
        "CDK's BucketDeployment function reaches S3 only.",
    ),
    Acknowledgment(
        "CKV_AWS_173",
        "AWS::Lambda::Function",
        "The environment holds names only (tables, secrets, the bus, the admin group and routes), never "
        "a secret value: secrets are read from Secrets Manager at run time (tests/infra/test_functions.py "
        "checks no variable derives from a secret), so a customer key would protect nothing; CDK's "
        "BucketDeployment function's environment holds no secret either.",
    ),
    Acknowledgment(
        "CKV_AWS_120",
        "AWS::ApiGateway::Stage",
        "No response cache: every answer is the caller's own (payments, methods, ledger pages) and must "
        "show the last write (a capture, a refund), so a cached answer would be stale or another caller's.",
    ),
    Acknowledgment(
        "CKV_AWS_59",
        "AWS::ApiGateway::Method",
        _WEBHOOK,
        paths=("Api/RestApi/Default/webhooks/stripe/POST/Resource",),
    ),
    Acknowledgment(
        "CKV_AWS_158",
        "AWS::Logs::LogGroup",
        "CloudWatch Logs encrypts every log group at rest with its own keys; reading them takes "
        "logs:GetLogEvents on the group. The logs never hold card data, secrets or bodies (data trace is "
        "off, Authorization is redacted from the WAF log), so the service key would add a second grant "
        "to the same readers.",
    ),
    Acknowledgment(
        "CKV_AWS_27",
        "AWS::SQS::Queue",
        "The dead-letter queues are encrypted at rest with SQS-managed keys (SqsManagedSseEnabled, "
        "tests/infra/test_events.py); checkov 3.3.30's CKV_AWS_27 only recognises a KmsMasterKeyId. The "
        "service key would also need EventBridge and every function's role on its policy.",
    ),
    Acknowledgment(
        "CKV_AWS_18",
        "AWS::S3::Bucket",
        NO_ACCESS_LOGS + " Only CloudFront reads the bucket, and only the deployment writes it.",
        paths=("Console/Bucket/Resource",),
    ),
    Acknowledgment(
        "CKV_AWS_86",
        "AWS::CloudFront::Distribution",
        NO_ACCESS_LOGS,
        paths=("Console/Distribution/Resource",),
    ),
    Acknowledgment(
        "CKV_AWS_21",
        "AWS::S3::Bucket",
        "The console's bucket holds a copy of web/console as of the last deployment: git is its "
        "history, and a rollback is a redeploy of the earlier commit.",
        paths=("Console/Bucket/Resource",),
    ),
    Acknowledgment(
        "CKV_AWS_68",
        "AWS::CloudFront::Distribution",
        "A CloudFront web ACL must live in us-east-1 (a second stack) and would guard the console's "
        "public static files only; the API the console calls has its own web ACL (infra/aws/waf.py).",
        paths=("Console/Distribution/Resource",),
    ),
    Acknowledgment(
        "CKV_AWS_174",
        "AWS::CloudFront::Distribution",
        "The console is served on the distribution's *.cloudfront.net certificate, whose TLS policy "
        "CloudFront fixes; a minimum protocol needs a certificate and domain of our own.",
        paths=("Console/Distribution/Resource",),
    ),
)


def acknowledgment_for(check: str, resource_type: str, path: str) -> Acknowledgment | None:
    return next((a for a in ACKNOWLEDGMENTS if a.covers(check, resource_type, path)), None)
