"""Keep only the AWS service models our code calls in a bundled botocore (its data/ folder holds ~450
services, ~28 MB of the layer; Lambda's size budget is per function).

    python prune_botocore.py <site-packages dir> dynamodb events secretsmanager

Used by the CDK bundling (locally and in the Docker fallback); the services come from infra/catalog.py.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def prune(site_packages: Path, services: set[str]) -> list[str]:
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


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    gone = prune(Path(sys.argv[1]), set(sys.argv[2:]))
    print(f"botocore: kept {sorted(sys.argv[2:])}, removed {len(gone)} service models")
