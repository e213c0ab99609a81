"""Synthesizes the app once per session, both stages, and hands the templates to the tests.

Bundling is skipped (`aws:cdk:bundling-stacks=[]`), so no pip or Docker runs here. cdk-nag runs as
it does for `make synth`: any unacknowledged finding makes the synthesis fail.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import catalog
from tests.infra.stacks import REPO, STAGES, Stage, Synth, missing_function_code

STUB_HANDLER = "def handler(event, context):\n    raise NotImplementedError\n"


def _functions_root(tmp: Path) -> Path:
    """The real functions/ when every catalog function has its code; otherwise a stand-in tree that links
    the folders that exist and stubs the missing ones (test_function_code_exists reports those)."""
    if not missing_function_code():
        return REPO / "functions"
    root = tmp / "functions"
    root.mkdir()
    for fn in catalog.FUNCTIONS:
        real = REPO / "functions" / fn.name
        if (real / "app.py").is_file():
            (root / fn.name).symlink_to(real, target_is_directory=True)
        else:
            (root / fn.name).mkdir()
            (root / fn.name / "app.py").write_text(STUB_HANDLER)
    return root


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    from aws_cdk import App

    from infra.aws.application import build, stack_name

    tmp = tmp_path_factory.mktemp("cdk")
    context = json.loads((REPO / "cdk.json").read_text())["context"]
    context |= {
        "aws:cdk:bundling-stacks": [],
        "aws:cdk:enable-path-metadata": True,  # as the CLI does: resources carry their construct path
        "functions_root": str(_functions_root(tmp)),
    }
    outdir = tmp / "cdk.out"
    app = App(context=context, outdir=str(outdir))
    build(app, stages=STAGES)
    try:
        app.synth()
    except Exception as error:  # the validation report says why (cdk-nag findings, CDK errors)
        report = outdir / "validation-report.json"
        detail = report.read_text() if report.exists() else ""
        pytest.fail(f"synthesis failed: {error}\n{detail[:20000]}")
    stages = {
        stage: Stage(
            name=stage,
            template=json.loads((outdir / f"{stack_name(stage)}.template.json").read_text()),
            metadata=json.loads((outdir / f"{stack_name(stage)}.metadata.json").read_text()),
        )
        for stage in STAGES
    }
    return Synth(outdir, stages, json.loads((outdir / "validation-report.json").read_text()))


@pytest.fixture(params=STAGES)
def stage(request: pytest.FixtureRequest, synth: Synth) -> Stage:
    return synth.stages[request.param]
