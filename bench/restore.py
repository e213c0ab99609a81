"""SnapStart's restore, measured here: checkpoint a primed function with CRIU, restore it, time it.

Lambda snapshots a SnapStart function's microVM after its init and before-snapshot hooks; a cold start
restores that snapshot, runs the after-restore hooks, then the invocation. The nearest local equivalent
is CRIU (checkpoint/restore in userspace): the probe (bench/probe.py) imports the handler and runs its
priming, then waits; `criu dump` writes the process's memory and state to files (ending it) and
`criu restore` brings it back from them. The restore time runs from starting `criu restore` until the
restored interpreter runs Python again; the after-restore hooks and the first call are timed as before.

How it differs from Lambda, in both directions:
- the images are read from the page cache in one pass (they were just written); Lambda loads a
  snapshot's chunks from its caches, lazily, as the memory is touched;
- CRIU's own start-up is included: about 20 ms probing the kernel's features, which it caches only
  when /run is a tmpfs (not on this machine);
- the memory restored is the probe's whole interpreter, as Lambda's is the whole sandbox's.

Needs root and CRIU 4 (`bench/build_criu.sh` builds it into .tools/criu, or set BENCH_CRIU); without
them the SnapStart samples run uncheckpointed and the restore column says "not measured".
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import Any

from bench.common import CACHE, ROOT

WAIT_S = 120


@cache
def find_criu() -> str | None:
    """A CRIU that works on this kernel, as this user; None when there is none."""
    if os.geteuid() != 0:
        return None
    candidates = (os.environ.get("BENCH_CRIU"), str(ROOT / ".tools" / "criu" / "criu"), shutil.which("criu"))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            check = subprocess.run([candidate, "check"], capture_output=True, check=False)  # noqa: S603
            if check.returncode == 0:
                return candidate
    return None


def run_checkpointed(criu: str, spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """One SnapStart sample: prime in a fresh probe, checkpoint it, restore it, let it make its call."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-restore-", dir=CACHE) as tmp:
        work = Path(tmp)
        images, result_path = work / "images", work / "result.json"
        images.mkdir()
        ready, go, pidfile = work / "ready", work / "go", work / "restored.pid"
        spec_path = work / "spec.json"
        spec_path.write_text(json.dumps({**spec, "checkpoint": {"ready": str(ready), "go": str(go)}}))
        # Detached, no inherited descriptors, stdio on /dev/null: CRIU restores only what it can reopen.
        probe = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bench.probe", str(spec_path), str(result_path)],
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
        restored: int | None = None
        try:
            if not _wait(lambda: ready.exists() or probe.poll() is not None) or not ready.exists():
                return _crash(f"the probe did not get primed (exit {probe.poll()})")
            dump = _criu(criu, "dump", "-t", str(probe.pid), "-D", str(images), "-o", "dump.log")
            if dump.returncode != 0:
                return _crash(f"criu dump failed: {_tail(images / 'dump.log')}")
            probe.wait(timeout=30)  # reap it: the restore needs its pid free
            image_mb = sum(f.stat().st_size for f in images.iterdir()) / 1e6
            go.touch()
            started = time.time()
            restore = _criu(
                criu, "restore", "-D", str(images), "-d", "-o", "restore.log", "--pidfile", str(pidfile)
            )
            if restore.returncode != 0:
                return _crash(f"criu restore failed: {_tail(images / 'restore.log')}")
            restored = int(pidfile.read_text())
            if not _wait(lambda: result_path.exists() or not _alive(restored)):
                return _crash("the restored probe did not finish")
            if not _wait(lambda: not _alive(restored)) or not result_path.exists():
                return _crash("the restored probe ended without a result")
            result: dict[str, Any] = json.loads(result_path.read_text())
        finally:
            if probe.poll() is None:
                probe.kill()
                probe.wait()
            if restored is not None and _alive(restored):
                os.kill(restored, signal.SIGKILL)
    result["restore_ms"] = (result["resumed_at"] - started) * 1000
    result["image_mb"] = image_mb
    return result


def _criu(criu: str, *arguments: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([criu, *arguments], capture_output=True, check=False, timeout=WAIT_S)  # noqa: S603


def _wait(done: Any) -> bool:
    deadline = time.monotonic() + WAIT_S
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return status.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has finished


def _tail(log: Path) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
    except OSError:
        return "(no log)"


def _crash(error: str) -> dict[str, Any]:
    return {"status": "crash", "error": error}
