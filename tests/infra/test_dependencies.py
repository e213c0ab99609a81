"""The deps layer deploys exactly the locked versions, and builds for arm64 / CPython 3.14."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from infra.aws.bundling import (
    PYTHON_VERSION,
    LocalPipBundler,
    NoRuntimePython,
    _pip_install_command,
    compile_bytecode,
    lock_constraints,
    runtime_python,
)
from tests.infra.stacks import REPO, Stage

REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(?P<extras>\[[^\]]+\])?==(?P<version>\S+)$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines: list[str]) -> dict[str, str]:
    """`name[extras]==version` lines -> {canonical name[extras]: version}; anything else fails."""
    result = {}
    for line in lines:
        match = REQUIREMENT.match(line.strip())
        assert match, f"not an exact pin: {line!r}"
        result[canonical(match["name"]) + (match["extras"] or "")] = match["version"]
    return result


def requirements() -> dict[str, str]:
    lines = (REPO / "layers/deps/requirements.txt").read_text().splitlines()
    return pins([line for line in lines if line.strip() and not line.startswith("#")])


def test_requirements_equal_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    runtime = pins(project["project"]["dependencies"])
    dev = pins([d for d in project["dependency-groups"]["dev"] if isinstance(d, str)])
    required = requirements()
    # Every runtime dependency of the project, at the same pin.
    assert {k: v for k, v in required.items() if k in runtime} == runtime
    # The rest (aws-xray-sdk, Powertools Tracer's backend) is pinned in the dev group until it moves.
    for name, version in required.items():
        assert runtime.get(name, dev.get(name)) == version, name


def test_requirements_equal_the_lock() -> None:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    locked = {canonical(p["name"]): p["version"] for p in lock["package"] if "version" in p}
    for name, version in requirements().items():
        assert locked[canonical(name.split("[")[0])] == version, name


def test_transitive_dependencies_are_constrained_to_the_lock() -> None:
    constraints = lock_constraints(REPO / "uv.lock").splitlines()
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    botocore = next(p["version"] for p in lock["package"] if p["name"] == "botocore")
    assert f"botocore=={botocore}" in constraints


def test_local_bundling_command(tmp_path: Path) -> None:
    command = _pip_install_command(
        tmp_path / "python", REPO / "layers/deps/requirements.txt", tmp_path / "c.txt"
    )
    assert command is not None
    text = " ".join(command)
    assert "--only-binary=:all:" in text
    assert "--python-version 3.14" in text
    assert f"--target {tmp_path / 'python'}" in text
    assert f"-r {REPO / 'layers/deps/requirements.txt'}" in text
    if " -m pip " in text:
        assert "--platform manylinux2014_aarch64 --implementation cp" in text
    else:
        assert "--python-platform aarch64-manylinux2014" in text
    assert callable(LocalPipBundler(REPO / "layers/deps/requirements.txt", "").try_bundle)


def test_layers_synthesize_without_bundling(stage: Stage) -> None:
    for layer in ("Core", "Deps"):
        props = stage.at(f"Functions/Layers/{layer}/Resource")[1]["Properties"]
        assert props["CompatibleRuntimes"] == ["python3.14"]
        assert props["CompatibleArchitectures"] == ["arm64"]
        assert props["Content"]["S3Key"].endswith(".zip")


def _layer(tmp_path: Path) -> Path:
    site = tmp_path / "python"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg" / "__init__.py").write_text("VALUE = 1\n")
    return site


def test_the_layer_ships_bytecode_checked_against_nothing(tmp_path: Path) -> None:
    """Written by the given interpreter (the runtime's, in a real build), unchecked-hash: CDK zips assets
    with fixed timestamps, so timestamp-checked .pyc would be stale on read-only /opt."""
    site = _layer(tmp_path)
    assert compile_bytecode(site, sys.executable)
    cached = importlib.util.cache_from_source(str(site / "pkg" / "__init__.py"))
    flags = int.from_bytes(Path(cached).read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based, check_source off


def test_without_the_runtimes_python_the_layer_is_built_without_bytecode_and_says_so(tmp_path: Path) -> None:
    site = _layer(tmp_path)
    with pytest.warns(NoRuntimePython, match=f"no CPython {PYTHON_VERSION}.*WITHOUT bytecode"):
        assert not compile_bytecode(site, None)
    assert not list(site.rglob("*.pyc"))


def test_the_runtimes_python_is_the_runtimes_version_or_none() -> None:
    python = runtime_python()
    if python is None:
        return  # this machine has none: the build says so (test above)
    version = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version == PYTHON_VERSION
