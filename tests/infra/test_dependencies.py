"""The deps layer deploys exactly the locked versions, and builds for arm64 / CPython 3.14."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from infra.aws.bundling import LocalPipBundler, _pip_install_command, lock_constraints
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
