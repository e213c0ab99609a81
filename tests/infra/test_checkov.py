"""checkov, a scanner independent of cdk-nag and cfn-lint, on the synthesized templates of every stage.

It runs from its own environment (.tools/checkov, made by `make install` from tools/checkov/uv.lock:
its pins cannot share .venv's), offline (`--skip-download`: no call to Prisma Cloud), once per session.
Every finding is fixed or acknowledged in infra/aws/checkov.py, the one reviewed list.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest

from infra import catalog
from infra.aws.application import stack_name
from infra.aws.checkov import ACKNOWLEDGMENTS, acknowledgment_for
from tests.infra.stacks import REPO, Stage, Synth

CHECKOV = REPO / ".tools/checkov/bin/checkov"
# checkov's own start (about 12 s of CPU) and both stages' ~1,000 resources (about 20 s) on an idle core.
TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class Finding:
    stage: str
    check: str
    resource_type: str
    path: str  # construct path below the stack

    def __str__(self) -> str:
        return f"{self.check} on {self.resource_type} {self.stage}/{self.path}"


def construct_path(stage: Stage, logical_id: str) -> str:
    full = str(stage.resources[logical_id].get("Metadata", {}).get("aws:cdk:path", logical_id))
    return full.removeprefix(f"{stack_name(stage.name)}/")


@pytest.fixture(scope="module")
def scan(synth: Synth) -> dict[str, Any]:
    if not CHECKOV.is_file():
        pytest.fail(f"{CHECKOV} is missing: `make install` makes it (tools/checkov/uv.lock)")
    templates = [str(synth.outdir / f"{stack_name(s.name)}.template.json") for s in synth.all()]
    files = [arg for template in templates for arg in ("-f", template)]
    command = [str(CHECKOV), *files, "--framework", "cloudformation", "--skip-download", "--quiet"]
    environment = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    done = subprocess.run(
        [*command, "--compact", "--soft-fail", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        env=environment,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout)
    # One report per framework; an empty scan comes back as a bare summary.
    reports = report if isinstance(report, list) else [report]
    (cloudformation,) = [r for r in reports if r.get("check_type") == "cloudformation"]
    result: dict[str, Any] = cloudformation
    return result


def findings(scan: dict[str, Any], synth: Synth) -> list[Finding]:
    by_file = {f"{stack_name(s.name)}.template.json": s for s in synth.all()}
    found: list[Finding] = []
    for failed in scan["results"]["failed_checks"]:
        stage = by_file[failed["file_path"].rsplit("/", 1)[-1]]  # checkov gives a path relative to cwd
        resource_type, _, logical_id = failed["resource"].partition(".")
        found.append(
            Finding(stage.name, failed["check_id"], resource_type, construct_path(stage, logical_id))
        )
    return found


def test_checkov_scanned_every_resource_of_both_stages(scan: dict[str, Any], synth: Synth) -> None:
    summary = scan["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["checkov_version"] == "3.3.30"
    assert summary["resource_count"] >= sum(len(s.resources) for s in synth.all()) * 0.9
    assert summary["passed"] > 0


def test_every_checkov_finding_is_fixed_or_acknowledged(scan: dict[str, Any], synth: Synth) -> None:
    unacknowledged = sorted(
        {
            str(f)
            for f in findings(scan, synth)
            if acknowledgment_for(f.check, f.resource_type, f.path) is None
        }
    )
    assert unacknowledged == [], "fix these or acknowledge them in infra/aws/checkov.py:\n" + "\n".join(
        unacknowledged
    )


def test_no_stale_checkov_acknowledgment(scan: dict[str, Any], synth: Synth) -> None:
    found = findings(scan, synth)
    for acknowledgment in ACKNOWLEDGMENTS:
        assert any(acknowledgment.covers(f.check, f.resource_type, f.path) for f in found), (
            acknowledgment.check
        )


def test_checkov_acknowledgments_are_reasoned_and_one_per_check() -> None:
    for acknowledgment in ACKNOWLEDGMENTS:
        assert len(acknowledgment.reason) > 60, acknowledgment.check
        assert acknowledgment.check.startswith("CKV"), acknowledgment.check
    keys = [(a.check, a.resource_type) for a in ACKNOWLEDGMENTS]
    assert len(keys) == len(set(keys))


def test_the_stack_keeps_what_it_acknowledges(synth: Synth) -> None:
    """What the acknowledgments lean on is so in the templates: SQS-managed encryption on every queue,
    an on-failure destination for every asynchronous function, only the webhook without an authorizer."""
    for stage in synth.all():
        for queue in stage.of_type("AWS::SQS::Queue").values():
            assert queue["Properties"].get("SqsManagedSseEnabled") is True
        asynchronous = [f for f in catalog.FUNCTIONS if f.subscription or f.schedule_minutes]
        invoke_configs = stage.of_type("AWS::Lambda::EventInvokeConfig").values()
        assert len([c for c in invoke_configs if "OnFailure" in c["Properties"]["DestinationConfig"]]) == len(
            asynchronous
        )
        open_methods = [
            construct_path(stage, logical_id)
            for logical_id, method in stage.of_type("AWS::ApiGateway::Method").items()
            if method["Properties"]["AuthorizationType"] == "NONE"
        ]
        assert open_methods == ["Api/RestApi/Default/webhooks/stripe/POST/Resource"]
