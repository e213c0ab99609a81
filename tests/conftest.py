"""Test-wide settings: a fake AWS account, local resource names, and fast, deterministic Powertools."""

from __future__ import annotations

import os

from infra import catalog
from infra.local.resources import function_environment

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "OUTBOX_MIN_AGE_SECONDS": "0",
        "STRIPE_MAX_NETWORK_RETRIES": "0",
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)
# In-process tests run every function in one interpreter: give it the union of their variables.
for _fn in catalog.FUNCTIONS:
    os.environ.update(function_environment(_fn))
