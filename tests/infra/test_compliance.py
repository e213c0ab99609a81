"""cdk-nag (AwsSolutions) and cfn-lint on the synthesized templates."""

from __future__ import annotations

from typing import Any

from infra.aws.config import DEFAULT_REGION
from tests.infra.stacks import Synth

# Every acknowledged finding, by rule; anything else must be fixed, not acknowledged.
ACKNOWLEDGEABLE = {
    "AwsSolutions-SMG4",  # secrets rotated in Stripe's dashboard / by hand (reasons on each secret)
    "AwsSolutions-SQS3",  # the queues are themselves dead-letter queues
    "AwsSolutions-IAM5[Resource::*]",  # X-Ray accepts no resource-level permissions
    "AwsSolutions-APIG4",  # Stripe webhook: authenticated by signature, not Cognito
    "AwsSolutions-COG4",  # same route
    "AwsSolutions-COG2",  # dev only: MFA optional
    "AwsSolutions-COG8",  # dev only: Cognito Plus plan
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
    "@aws-cdk/aws-lambda:snapStartRequirePublish",  # versions are published, the alias is invoked
    # The risk hook: ops name it in the rules (data), so IAM names its functions by pattern.
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:risk-hook-*]",
    # The console (reasons in infra/aws/console.py): its public static files are served without
    # access logs, a country list, a CloudFront web ACL or a certificate of our own ...
    "AwsSolutions-S1",
    "AwsSolutions-CFR1",
    "AwsSolutions-CFR2",
    "AwsSolutions-CFR3",
    "AwsSolutions-CFR4",
    # ... and CDK's BucketDeployment function copies them: its logging policy, runtime and S3 grant.
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    "AwsSolutions-L1",
    *(
        f"AwsSolutions-IAM5[Action::s3:{action}]"
        for action in ("GetBucket*", "GetObject*", "List*", "Abort*", "DeleteObject*")
    ),
    "AwsSolutions-IAM5[Resource::<ConsoleBucket86B6957C.Arn>/*]",
}


def acknowledgeable(synth: Synth) -> set[str]:
    """ACKNOWLEDGEABLE and the one finding that names the region: CDK's assets bucket, which the
    console's deployment reads."""
    assets = f"cdk-hnb659fds-assets-<AWS::AccountId>-{synth.region}"
    return ACKNOWLEDGEABLE | {f"AwsSolutions-IAM5[Resource::arn:aws:s3:::{assets}/*]"}


def suppressed(synth: Synth) -> list[dict[str, Any]]:
    return [
        v
        for report in synth.validation_report["pluginReports"]
        for v in report.get("suppressedViolations", [])
    ]


def test_no_unacknowledged_finding(synth: Synth) -> None:
    for report in synth.validation_report["pluginReports"]:
        assert report["violations"] == [], report["pluginName"]
        assert report["conclusion"] == "success"


def test_acknowledgments_are_reasoned_and_expected(synth: Synth) -> None:
    expected = acknowledgeable(synth)
    for violation in suppressed(synth):
        rule = violation["ruleName"]
        assert len(violation["reason"]) > 30, rule
        assert rule in expected, rule


def test_prod_acknowledges_less_than_dev(synth: Synth) -> None:
    by_stack: dict[str, set[str]] = {}
    for violation in suppressed(synth):
        for construct in violation["violatingConstructs"]:
            by_stack.setdefault(construct["constructPath"].split("/")[0], set()).add(violation["ruleName"])
    assert not {"AwsSolutions-COG2", "AwsSolutions-COG8"} & by_stack["payments-prod"]


def test_no_stale_acknowledgment(synth: Synth) -> None:
    """Each cdk-nag acknowledgment recorded on a construct suppressed a real finding (none is left over)."""
    used = {(v["acknowledgedAt"], v["acknowledgedId"]) for v in suppressed(synth)}
    for stage in synth.all():
        for path, entries in stage.metadata.items():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    for rule_id in entry["data"]:
                        if rule_id.startswith("AwsSolutions::"):
                            assert (path.lstrip("/"), rule_id) in used, (path, rule_id)


def test_no_cdk_warning_or_error(synth: Synth) -> None:
    """CDK's own annotations (deprecations, misconfigurations) are fixed or acknowledged, never ignored."""
    for stage in synth.all():
        for path, entries in stage.metadata.items():
            for entry in entries:
                assert entry["type"] not in ("aws:cdk:warning", "aws:cdk:error"), (path, entry["data"])


def test_cfn_lint_finds_no_error(synth: Synth) -> None:
    from cfnlint.api import lint  # type: ignore[import-untyped]

    for stage in synth.all():
        path = synth.outdir / f"payments-{stage.name}.template.json"
        errors = [m for m in lint(path.read_text(), regions=[DEFAULT_REGION]) if m.rule.id.startswith("E")]
        assert errors == [], "\n".join(str(e) for e in errors)
