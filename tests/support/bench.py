"""Run `python -m bench` as `make bench` does, in a child with a clean environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_bench(arguments: list[str], out: Path, timeout: int = 300) -> tuple[dict[str, Any], str]:
    """The results (bench.json) and the printed tables; fails the test when the run fails."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "POWERTOOLS_", "STRIPE_")) and not key.endswith("_TABLE")
    }
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "layers" / "core" / "python")])
    files = ["--output", str(out / "bench.json"), "--markdown", str(out / "bench.md"), "--charts", str(out)]
    completed = subprocess.run(
        [sys.executable, "-m", "bench", *arguments, *files],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads((out / "bench.json").read_text()), completed.stdout
