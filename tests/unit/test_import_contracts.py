"""The import contracts in pyproject.toml (import-linter) hold, and they catch a forbidden import.

The second test copies the packages into a temporary tree, adds one import that breaks a layer rule and
expects lint-imports to refuse it: a contract that cannot fail would pass the first test for nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("functions", "infra", "tools", "bench", "layers/core/python/payments")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(tree / "layers/core/python")])}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def copy_of_the_tree(target: Path) -> Path:
    for package in PACKAGES:
        if (ROOT / package).exists():
            shutil.copytree(
                ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__", ".cache")
            )
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_the_tree_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        (
            "layers/core/python/payments/application/payment_status.py",
            "from payments.adapters.stripe import gateway as _gateway  # noqa: F401",
            "Handlers over glue over the composition root",
        ),
        (
            "layers/core/python/payments/domain/money.py",
            "from payments import observability as _observability  # noqa: F401",
            "The domain imports nothing of ours but itself",
        ),
        (
            "functions/get_payment/app.py",
            "from infra import catalog as _catalog  # noqa: F401",
            "Runtime code never imports the infrastructure",
        ),
        (
            "infra/catalog.py",
            "import payments.domain.money as _money  # noqa: F401",
            "The catalog is plain data",
        ),
        (
            "functions/get_payment/app.py",
            "from payments.adapters import secrets as _secrets  # noqa: F401",
            "Handlers use the glue, the composition root and the use cases, never an adapter",
        ),
        (
            "layers/core/python/payments/adapters/dynamodb/ledger.py",
            "from payments.application import commit as _commit  # noqa: F401",
            "Adapters know the use cases by their ports only",
        ),
        (
            "layers/core/python/payments/application/orders.py",
            "import joserfc as _joserfc  # noqa: F401",
            "Use cases reach Stripe, DynamoDB, the bus and JOSE through the ports only",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(tmp_path, module, line, contract):
    tree = copy_of_the_tree(tmp_path)
    source = tree / module
    source.write_text(source.read_text() + f"\n{line}\n")
    result = lint_imports(tree)
    assert result.returncode != 0, result.stdout
    # lint-imports wraps long contract names: read the report as one line.
    report = " ".join(result.stdout.split())
    verdict = report[report.index(contract) :].split()
    assert next(word for word in verdict if word in ("KEPT", "BROKEN")) == "BROKEN", result.stdout
