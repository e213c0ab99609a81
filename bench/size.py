"""Deployment size per function: its code asset, the core layer and the third-party layer, unzipped.

The third-party layer is built the way `cdk synth` builds it: infra/aws/bundling.py's local bundler
(pip's manylinux2014 aarch64 wheels for the runtime's CPython 3.14, constrained to uv.lock, botocore
pruned) into bench/.cache, kept between runs. When it cannot be built (no pip or uv, no PyPI) or
`--size-method local` asks for it, the local .venv's installed files for the same distributions are
measured instead. The report says which.

Beside the layer's files, each function's size is given for the variants worth deciding on: with the
bytecode the bundler ships (what saves compiling every module at each cold start: CPython 3.14's, or,
on a machine without 3.14, CPython 3.13's as the nearest estimate, and the report says which), without
the SDK the Lambda runtime already has (boto3, botocore, s3transfer), and with only the packages the
function imported in its cold samples (one layer per kind of function). The budget is judged as
deployed: files plus bytecode.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import CACHE, ROOT, log
from infra import catalog

LAMBDA_LIMIT_MB = 250.0  # function code + all layers, unzipped
BUDGET_MB = 60.0  # per function, unzipped, as deployed (with the layer's bytecode)
EXCLUDED_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache"}  # as infra/aws/functions.py excludes
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}  # in the Lambda Python runtime already
# What a Stripe call loads: a function holding the Stripe key needs it even when its cold sample (a 404
# for an unknown id) never reached Stripe.
STRIPE_PACKAGES = {
    "stripe",
    "requests",
    "urllib3",
    "idna",
    "charset_normalizer",
    "certifi",
    "typing_extensions",
}
DEPS = ROOT / "layers" / "deps"
BUILT_BY = "infra/aws/bundling.py's local bundler, as `cdk synth` builds the layer"
MB = 1024 * 1024


def tree_size(root: Path, *, skip_bytecode: bool = True) -> int:
    total = 0
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        if skip_bytecode and (EXCLUDED_PARTS & set(path.parts) or path.suffix == ".pyc"):
            continue
        total += path.stat().st_size
    return total


def _cache_dir(requirements: Path) -> Path:
    """A folder per layer content: what the bundler installs and how it prunes."""
    sources = [
        requirements,
        ROOT / "uv.lock",
        *sorted(path for path in DEPS.iterdir() if path.suffix == ".py"),  # the pruning
        ROOT / "infra" / "aws" / "bundling.py",
    ]
    inputs = [path.read_text() for path in sources] + list(catalog.AWS_SERVICES)
    return CACHE / f"deps-{hashlib.sha256(chr(0).join(inputs).encode()).hexdigest()[:12]}"


def install_layer(requirements: Path) -> tuple[Path | None, str]:
    """The deps layer's `python/` folder in bench/.cache, built once per its inputs; None and why not when
    it cannot be built here."""
    target = _cache_dir(requirements)
    if (target / ".complete").exists():
        return target / "python", BUILT_BY + " (cached in bench/.cache)"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    log("size: building the arm64 dependency layer (once; cached in bench/.cache)")
    try:
        from infra.aws.bundling import LocalPipBundler, lock_constraints

        built = LocalPipBundler(requirements, lock_constraints(ROOT / "uv.lock")).try_bundle(str(target))
    except Exception as error:  # pip failed (offline?) or CDK is missing: measure the .venv instead
        return None, f"the layer could not be built ({type(error).__name__})"
    if not built:
        return None, "the layer could not be built (no pip or uv)"
    (target / ".complete").write_text("ok\n")
    return target / "python", BUILT_BY


def _top_level(layer: Path) -> dict[str, int]:
    """Bytes of each top-level entry of the layer (package, module or dist-info), bytecode excluded."""
    return {
        entry.name: tree_size(entry) if entry.is_dir() else entry.stat().st_size
        for entry in layer.iterdir()
        if entry.name != "__pycache__"
    }


def _local_fallback(requirements: Path) -> dict[str, int]:
    """Installed files of the required distributions and their dependencies in this interpreter, by
    top-level entry as in the layer (bytecode excluded)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: set[str] = set()
    lines = [line.strip() for line in requirements.read_text().splitlines()]
    queue = [Requirement(line).name for line in lines if line and not line.startswith("#")]
    sizes: dict[str, int] = defaultdict(int)
    while queue:
        name = queue.pop()
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for file in dist.files or []:
            path = Path(str(file.locate()))
            if path.is_file() and file.parts[0] not in ("..", "bin") and path.suffix != ".pyc":
                sizes[file.parts[0]] += path.stat().st_size
        for requirement in dist.requires or []:
            parsed = Requirement(requirement)
            if parsed.marker is None or parsed.marker.evaluate({"extra": ""}):
                queue.append(parsed.name)
    return dict(sizes)


def _bytecode_python() -> tuple[str, str] | None:
    """The interpreter that sizes the layer's bytecode, and its version: the runtime's CPython (what the
    bundler compiles with), else a CPython 3.13 (a pyenv shim may exist without that version being
    selected), whose bytecode is within a few per cent of 3.14's."""
    from infra.aws.bundling import PYTHON_VERSION, runtime_python

    runtime = runtime_python()
    if runtime is not None:
        return runtime, PYTHON_VERSION
    found = [
        shutil.which("python3.13"),
        *sorted(map(str, Path.home().glob(".pyenv/versions/3.13*/bin/python3.13"))),
    ]
    for candidate in filter(None, found):
        probe = subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False)  # noqa: S603
        if probe.returncode == 0:
            return candidate, "3.13"
    return None


def _bytecode(layer: Path) -> tuple[dict[str, int], str] | None:
    """Bytes of .pyc per top-level entry (unchecked-hash, as the bundler writes them), and the Python
    version that compiled them; None without a CPython to compile with."""
    found = _bytecode_python()
    if found is None:
        return None
    python, version = found
    prefix = layer.parent / f"pyc-{version}"
    if not (prefix / ".complete").exists():
        shutil.rmtree(prefix, ignore_errors=True)
        subprocess.run(  # noqa: S603 - fixed argv
            [
                python,
                "-m",
                "compileall",
                "-q",
                "-j",
                "0",
                "--invalidation-mode",
                "unchecked-hash",
                str(layer),
            ],
            env={"PATH": os.environ.get("PATH", ""), "PYTHONPYCACHEPREFIX": str(prefix)},
            capture_output=True,
            check=False,
        )
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / ".complete").write_text("ok\n")
    mirror = prefix / layer.resolve().relative_to(layer.resolve().anchor)
    if not mirror.is_dir():
        return {}, version
    return {entry.name: tree_size(entry, skip_bytecode=False) for entry in mirror.iterdir()}, version


def _package_of(module: str, packages: set[str]) -> str | None:
    root = module.split(".", maxsplit=1)[0]
    return root if root in packages else None


def measure(
    functions: list[catalog.Function], imported: dict[str, set[str]] | None = None, method: str = "pip"
) -> dict[str, Any]:
    """`imported`: top-level modules each function loaded in its cold samples (from -X importtime),
    used to size a layer holding only what the function imports."""
    requirements = DEPS / "requirements.txt"
    layer, how = install_layer(requirements) if method == "pip" else (None, "asked for the local .venv")
    pyc: dict[str, int] | None = None
    pyc_python = None
    if layer is not None:
        entries = _top_level(layer)
        compiled = _bytecode(layer)
        if compiled is not None:
            pyc, pyc_python = compiled
    else:
        log(f"size: {how}; measuring the local .venv's installed files instead")
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        how = f"the local .venv's files ({platform.machine()}, Python {version}; {how})"
        entries = _local_fallback(requirements)
    pyc = pyc or {}
    deps = sum(entries.values())
    runtime = sum(size for name, size in entries.items() if name in RUNTIME_PROVIDED)
    core = tree_size(ROOT / "layers" / "core")
    packages = {n for n in entries if not n.endswith(".dist-info")}
    rows: dict[str, Any] = {}
    for fn in functions:
        code = tree_size(ROOT / "functions" / fn.name)
        base = code + core
        row: dict[str, Any] = {
            "code_kb": code / 1024,
            "as_built_mb": (base + deps) / MB,
            "with_pyc_mb": (base + deps + sum(pyc.values())) / MB if pyc else None,
            "runtime_boto3_mb": (base + deps - runtime) / MB,
        }
        if imported and fn.name in imported:
            needed = {p for m in imported[fn.name] if (p := _package_of(m, packages))}
            if catalog.STRIPE_API_KEY in fn.secrets:
                needed |= STRIPE_PACKAGES & packages
            only = sum(entries[p] for p in needed)
            only_pyc = sum(pyc.get(p, 0) for p in needed)
            row["imported_only_mb"] = (base + only) / MB
            row["imported_only_pyc_mb"] = (base + only + only_pyc) / MB if pyc else None
            mine = sum(entries[p] + pyc.get(p, 0) for p in needed if p not in RUNTIME_PROVIDED)
            row["imported_pyc_runtime_boto3_mb"] = (base + mine) / MB
            row["imported_packages"] = sorted(needed)
        # As deployed: the layer ships its bytecode (without a measure of it, the files alone).
        row["within_budget"] = (row["with_pyc_mb"] or row["as_built_mb"]) <= BUDGET_MB
        rows[fn.name] = {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}
    biggest = sorted(entries.items(), key=lambda kv: -kv[1])[:12]
    return {
        "method": how,
        "limit_mb": LAMBDA_LIMIT_MB,
        "budget_mb": BUDGET_MB,
        "core_layer_mb": round(core / MB, 2),
        "deps_layer_mb": round(deps / MB, 2),
        "deps_runtime_provided_mb": round(runtime / MB, 2),
        "deps_pyc_mb": round(sum(pyc.values()) / MB, 2) if pyc else None,
        "pyc_python": pyc_python,
        "deps_largest_mb": {
            n: {"files": round(v / MB, 2), "pyc": round(pyc.get(n, 0) / MB, 2)} for n, v in biggest
        },
        "functions": rows,
    }
