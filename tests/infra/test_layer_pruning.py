"""The deps layer keeps only the botocore service models the code calls, and the code calls no other."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

from infra import catalog

ROOT = Path(__file__).resolve().parents[2]
prune = runpy.run_path(str(ROOT / "layers" / "deps" / "prune_botocore.py"))["prune"]


def test_the_code_calls_only_the_catalogs_aws_services():
    called = set()
    for source in (ROOT / "layers" / "core" / "python").rglob("*.py"):
        called |= set(re.findall(r'client\("([a-z0-9-]+)"[,)]', source.read_text()))
    assert called
    assert called <= set(catalog.AWS_SERVICES)


def test_prune_keeps_the_listed_models_and_the_shared_files(tmp_path):
    data = tmp_path / "botocore" / "data"
    for name in ("dynamodb", "events", "secretsmanager", "lambda", "s3", "ec2"):
        (data / name / "2012-08-10").mkdir(parents=True)
    (data / "endpoints.json").write_text("{}")

    removed = prune(tmp_path, set(catalog.AWS_SERVICES))

    assert sorted(removed) == ["ec2", "s3"]
    assert sorted(p.name for p in data.iterdir()) == [
        "dynamodb",
        "endpoints.json",
        "events",
        "lambda",
        "secretsmanager",
    ]


def test_prune_refuses_a_service_botocore_does_not_have(tmp_path):
    (tmp_path / "botocore" / "data" / "dynamodb").mkdir(parents=True)
    with pytest.raises(SystemExit):
        prune(tmp_path, {"dynamodb", "not-a-service"})
