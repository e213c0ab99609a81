"""The deps layer keeps only the botocore service models the code calls (and the code calls no other),
and leaves out Stripe's type-only parameter package, which the code never imports."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

from infra import catalog

ROOT = Path(__file__).resolve().parents[2]
PRUNING = runpy.run_path(str(ROOT / "layers" / "deps" / "prune.py"))
prune, prune_type_only = PRUNING["prune_botocore"], PRUNING["prune_type_only"]


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


def test_stripes_parameter_types_are_left_out_and_the_rest_of_stripe_kept(tmp_path):
    for folder in ("stripe/params", "stripe/events"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "stripe" / "__init__.py").write_text("")

    assert prune_type_only(tmp_path) == ["stripe/params"]
    assert sorted(p.name for p in (tmp_path / "stripe").iterdir()) == ["__init__.py", "events"]


def test_a_stripe_without_its_parameter_package_is_a_build_error_not_a_silent_skip(tmp_path):
    (tmp_path / "stripe").mkdir()
    with pytest.raises(SystemExit, match="check TYPE_ONLY_PACKAGES"):
        prune_type_only(tmp_path)


def test_our_code_never_imports_stripes_parameter_types():
    sources = [*(ROOT / "layers" / "core" / "python").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    assert [str(p) for p in sources if "stripe.params" in p.read_text()] == []
