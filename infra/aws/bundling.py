"""The third-party dependency layer, bundled for arm64 / CPython 3.14 on this machine (no Docker).

pip downloads manylinux aarch64 wheels whatever the host, so `cdk synth` on an x86 laptop or CI builds
the right layer. Besides the pins of requirements.txt, every transitive dependency is constrained to
its version in uv.lock, so the layer runs exactly the versions the tests ran.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra import catalog

PLATFORM = "manylinux2014_aarch64"
# The newest runtime CDK knows. SnapStart takes Python 3.12 and later, and every locked dependency
# ships a wheel for it (the compiled ones cp314 or abi3 manylinux2014 aarch64): this module's pip
# command resolves the whole layer for 3.14.
PYTHON_VERSION = "3.14"
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
PRUNE_SCRIPT = "prune_botocore.py"  # in the deps folder: runs in the Docker fallback too
SERVICES = catalog.AWS_SERVICES


def lock_constraints(lock_file: Path) -> str:
    """`name==version` for every package locked at a single version (pip ignores the ones not needed)."""
    lock = tomllib.loads(lock_file.read_text())
    versions: dict[str, set[str]] = {}
    for package in lock.get("package", []):
        if "version" in package and "registry" in package.get("source", {}):
            versions.setdefault(package["name"], set()).add(package["version"])
    return "".join(f"{name}=={next(iter(v))}\n" for name, v in sorted(versions.items()) if len(v) == 1)


def _pip_install_command(target: Path, requirements: Path, constraints: Path) -> list[str] | None:
    """pip where there is one (the uv-managed .venv has none), else uv's pip interface."""
    # No .pyc: they would be compiled by the host's Python, not the runtime's, and only add size.
    options = ["--only-binary=:all:", "--python-version", PYTHON_VERSION, "--target", str(target)]
    files = ["-r", str(requirements), "-c", str(constraints)]
    interpreters = [sys.executable] if importlib.util.find_spec("pip") else []
    interpreters += [p for p in (shutil.which("python3"), shutil.which("python")) if p]
    for python in interpreters:
        probe = subprocess.run([python, "-m", "pip", "--version"], capture_output=True, check=False)  # noqa: S603
        if probe.returncode == 0:
            # The conflict check would compare with the host's own packages, which the layer never meets.
            pip = [
                python,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-warn-conflicts",
                "--no-compile",
            ]
            pip += ["--root-user-action=ignore"]
            return [*pip, "--platform", PLATFORM, "--implementation", "cp", *options, *files]
    uv = shutil.which("uv") or shutil.which(
        "uv", path=str(Path(__file__).resolve().parents[2] / ".tools/bin")
    )
    if uv:
        return [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python-platform",
            "aarch64-manylinux2014",
            *options,
            *files,
        ]
    return None


@jsii.implements(ILocalBundling)
class LocalPipBundler:
    """Installs the requirements into `<output>/python` with pip's cross-platform wheel selection."""

    def __init__(self, requirements: Path, constraints: str) -> None:
        self._requirements = requirements
        self._constraints = constraints

    def try_bundle(self, output_dir: str, *_args: Any, **_options: Any) -> bool:
        with tempfile.TemporaryDirectory() as tmp:
            constraints = Path(tmp) / "constraints.txt"
            constraints.write_text(self._constraints)
            site_packages = Path(output_dir) / "python"
            command = _pip_install_command(site_packages, self._requirements, constraints)
            if command is None:
                return False  # no pip, no uv: CDK falls back to the Docker image
            subprocess.run(command, check=True)  # noqa: S603 - fixed argv, no shell
            prune = [sys.executable, str(self._requirements.parent / PRUNE_SCRIPT), str(site_packages)]
            subprocess.run([*prune, *catalog.AWS_SERVICES], check=True)  # noqa: S603
        return True


def deps_layer_code(deps_root: Path, lock_file: Path) -> lambda_.Code:
    requirements = deps_root / "requirements.txt"
    constraints = lock_constraints(lock_file)
    docker_command: Sequence[str] = [
        "bash",
        "-c",
        'printf "%s" "$LOCK_CONSTRAINTS" > /tmp/constraints.txt && '
        "pip install --no-cache-dir --no-compile -r requirements.txt -c /tmp/constraints.txt "
        f"-t /asset-output/python && python {PRUNE_SCRIPT} /asset-output/python {' '.join(SERVICES)}",
    ]
    # The hash covers what decides the layer's content, so a lock change re-bundles it.
    digest = hashlib.sha256(
        "\n".join(
            [
                requirements.read_text(),
                constraints,
                PLATFORM,
                PYTHON_VERSION,
                (deps_root / PRUNE_SCRIPT).read_text(),
                *catalog.AWS_SERVICES,
            ]
        ).encode()
    ).hexdigest()
    return lambda_.Code.from_asset(
        str(deps_root),
        asset_hash=digest,
        bundling=BundlingOptions(
            image=RUNTIME.bundling_image,
            platform="linux/arm64",
            command=docker_command,
            environment={"LOCK_CONSTRAINTS": constraints},
            local=LocalPipBundler(requirements, constraints),
        ),
    )
