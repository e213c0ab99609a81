"""cdk-nag (AwsSolutions) wiring: the checks run at every synth and fail it on any unacknowledged finding
(CDK's own annotation warnings land in the same validation report).

Acknowledgments go on the narrowest construct that carries the finding, each with its reason, where the
construct is built (so the reason sits next to the code it excuses).
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, finding: str, reason: str, *, plugin: str = "AwsSolutions") -> None:
    """Acknowledges one finding on `scope` and its children.

    `finding` is the rule id with its finding, e.g. `AwsSolutions-IAM5[Resource::*]`: findings match
    exactly (no prefix match), so one acknowledgment never hides another finding of the same rule.
    `plugin` is the validation report's source: `AwsSolutions` (cdk-nag) or `Annotation` (CDK's warnings).
    """
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{plugin}::{finding}", reason=reason))
