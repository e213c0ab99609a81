"""Leave out of the deps layer what no function can load (Lambda's size budget is per function):

- botocore's models of the services our code never calls (its data/ folder holds ~450 services, ~28 MB);
- Stripe's request parameter types (`stripe/params`, 6 MB of source and 3.4 MB of bytecode): TypedDicts
  the SDK imports only under TYPE_CHECKING, for type checkers; nothing imports them at run time (the
  integration tests check that no test loaded them).

    python prune.py <site-packages dir> dynamodb events secretsmanager

Used by the CDK bundling (locally and in the Docker fallback); the services come from infra/catalog.py.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

TYPE_ONLY_PACKAGES = ("stripe/params",)


def prune_botocore(site_packages: Path, services: set[str]) -> list[str]:
    """Remove every service model folder not in `services`; returns the removed names."""
    data = site_packages / "botocore" / "data"
    if not data.is_dir():
        raise SystemExit(f"no botocore/data under {site_packages}")
    missing = services - {p.name for p in data.iterdir()}
    if missing:
        raise SystemExit(f"botocore has no model for {sorted(missing)}")
    removed = []
    for entry in data.iterdir():
        # Files (endpoints.json, partitions.json, _retry.json, ...) are shared by every client.
        if entry.is_dir() and entry.name not in services:
            shutil.rmtree(entry)
            removed.append(entry.name)
    return removed


def prune_type_only(site_packages: Path) -> list[str]:
    """Remove the packages that exist for type checkers only; returns those removed."""
    removed = []
    for package in TYPE_ONLY_PACKAGES:
        folder = site_packages / package
        if not (folder / "__init__.py").is_file():
            raise SystemExit(f"no {package} package under {site_packages}: check TYPE_ONLY_PACKAGES")
        shutil.rmtree(folder)
        removed.append(package)
    return removed


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    root = Path(sys.argv[1])
    gone = prune_botocore(root, set(sys.argv[2:]))
    print(f"botocore: kept {sorted(sys.argv[2:])}, removed {len(gone)} service models")
    print(f"removed the type-only packages {prune_type_only(root)}")
