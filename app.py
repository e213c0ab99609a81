#!/usr/bin/env python3
"""CDK entry point: `npx cdk synth -c stage=dev|prod` (see docs/deploy.md)."""

from aws_cdk import App

from infra.aws.application import build

app = App()
build(app)
app.synth()
