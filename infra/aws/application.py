"""Builds the CDK app: the stack of the selected stage (or of several, in tests) plus the cdk-nag checks."""

from __future__ import annotations

import os
from collections.abc import Sequence

from aws_cdk import App, Environment

from infra import catalog
from infra.aws import config as stage_config
from infra.aws.nag import add_checks
from infra.aws.stack import PaymentsStack


def stack_name(stage: str) -> str:
    return f"{catalog.SERVICE_NAME}-{stage}"


def build(app: App, stages: Sequence[str] | None = None) -> list[PaymentsStack]:
    """Adds one stack per stage (default: context `stage`) to `app` and registers cdk-nag on it.

    Synthesis needs no credentials: the region has a default and the account is left to deploy time
    (CDK_DEFAULT_ACCOUNT is only set when the CLI found credentials).
    """
    env = Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=stage_config.region(app.node))
    configs = (
        [stage_config.resolve_stage(app.node, s) for s in stages]
        if stages
        else [stage_config.resolve(app.node)]
    )
    stacks = [PaymentsStack(app, stack_name(c.stage), config=c, env=env) for c in configs]
    add_checks(app)
    return stacks
