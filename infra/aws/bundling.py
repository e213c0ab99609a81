"""The third-party dependency layer, bundled for arm64 / CPython 3.14 on this machine (no Docker).

pip downloads manylinux aarch64 wheels whatever the host, so `cdk synth` on an x86 laptop or CI builds
the right layer. Besides the pins of requirements.txt, every transitive dependency is constrained to
its version in uv.lock, so the layer runs exactly the versions the tests ran.

The layer ships bytecode for the runtime's Python: /opt is read-only in Lambda, so without it every
module compiles again at each cold start. Bytecode is the interpreter's own format, so only a CPython
3.14 can write it (the architecture does not matter); when the build machine has none, the layer is
built without bytecode and the build says so (`runtime_python`, `compile_bytecode`).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import tomllib
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra import catalog

PLATFORM = "manylinux2014_aarch64"
# The newest runtime CDK knows. SnapStart takes Python 3.12 and later, and every locked dependency
# ships a wheel for it (the compiled ones, pydantic-core, cryptography and cffi, as cp314 or abi3
# manylinux2014 aarch64 wheels): this module's pip
# command resolves the whole layer for 3.14.
PYTHON_VERSION = "3.14"
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
PRUNE_SCRIPT = "prune.py"  # in the deps folder: runs in the Docker fallback too
SERVICES = catalog.AWS_SERVICES


def lock_constraints(lock_file: Path) -> str:
    """`name==version` for every package locked at a single version (pip ignores the ones not needed)."""
    lock = tomllib.loads(lock_file.read_text())
    versions: dict[str, set[str]] = {}
    for package in lock.get("package", []):
        if "version" in package and "registry" in package.get("source", {}):
            versions.setdefault(package["name"], set()).add(package["version"])
    return "".join(f"{name}=={next(iter(v))}\n" for name, v in sorted(versions.items()) if len(v) == 1)


def _uv() -> str | None:
    """uv on PATH, else the one the Makefile installs into .tools/."""
    tools = Path(__file__).resolve().parents[2] / ".tools/bin"
    return shutil.which("uv") or shutil.which("uv", path=str(tools))


def _pip_install_command(target: Path, requirements: Path, constraints: Path) -> list[str] | None:
    """pip where there is one (the uv-managed .venv has none), else uv's pip interface."""
    # No .pyc from the installer: it would write the host Python's; compile_bytecode writes the runtime's.
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
    uv = _uv()
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


# Checked against nothing at import: CDK zips assets with fixed timestamps, so timestamp-checked .pyc
# would always look stale, and Lambda could not rewrite them on read-only /opt.
BYTECODE_ARGS = ["-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]


@functools.cache  # asking uv takes a second or two; a synth asks once
def runtime_python() -> str | None:
    """A CPython PYTHON_VERSION on this machine (`python3.14` on PATH, or one uv manages), else None."""
    candidates = [shutil.which(f"python{PYTHON_VERSION}")]
    uv = _uv()
    if uv:
        found = subprocess.run(  # noqa: S603 - fixed argv; `uv python find` never downloads
            [uv, "python", "find", "--no-project", PYTHON_VERSION],
            capture_output=True,
            text=True,
            check=False,
        )
        candidates.append(found.stdout.strip() if found.returncode == 0 else None)
    for python in filter(None, candidates):
        probe = subprocess.run(  # noqa: S603
            [python, "-c", "import sys; print(sys.implementation.name, *sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.stdout.split() == ["cpython", *PYTHON_VERSION.split(".")]:
            return python
    return None


class NoRuntimePython(UserWarning):
    """The deps layer is built without bytecode: no CPython of the runtime's version to write it."""


def compile_bytecode(site_packages: Path, python: str | None) -> bool:
    """Write the layer's .pyc with the runtime's Python; without one, say so and leave the layer as is."""
    if python is None:
        warnings.warn(
            f"deps layer: no CPython {PYTHON_VERSION} on this machine (python{PYTHON_VERSION} on PATH or "
            f"`uv python find {PYTHON_VERSION}`), so the layer ships WITHOUT bytecode and every module "
            "compiles at each cold start (about 2x slower on-demand cold starts). Install CPython "
            f"{PYTHON_VERSION} (`uv python install {PYTHON_VERSION}`) and build again.",
            NoRuntimePython,
            stacklevel=2,
        )
        return False
    subprocess.run([python, *BYTECODE_ARGS, str(site_packages)], check=True)  # noqa: S603
    return True


@jsii.implements(ILocalBundling)
class LocalPipBundler:
    """Installs the requirements into `<output>/python` with pip's cross-platform wheel selection."""

    def __init__(self, requirements: Path, constraints: str, python: str | None = None) -> None:
        self._requirements = requirements
        self._constraints = constraints
        self._python = python  # the runtime's Python, which writes the bytecode (None: no bytecode)

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
        compile_bytecode(site_packages, self._python)
        return True


def deps_layer_code(deps_root: Path, lock_file: Path) -> lambda_.Code:
    requirements = deps_root / "requirements.txt"
    constraints = lock_constraints(lock_file)
    docker_command: Sequence[str] = [
        "bash",
        "-c",
        'printf "%s" "$LOCK_CONSTRAINTS" > /tmp/constraints.txt && '
        "pip install --no-cache-dir --no-compile -r requirements.txt -c /tmp/constraints.txt "
        f"-t /asset-output/python && python {PRUNE_SCRIPT} /asset-output/python {' '.join(SERVICES)} && "
        # The image is the runtime's: its python writes the bytecode.
        f"python {' '.join(BYTECODE_ARGS[1:])} /asset-output/python",
    ]
    python = runtime_python()
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
                # A layer built without bytecode is built again once the runtime's Python is here.
                "bytecode" if python else "no bytecode",
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
            local=LocalPipBundler(requirements, constraints, python),
        ),
    )
