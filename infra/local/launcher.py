"""Start `make dev` (`python -m infra.local.dev`) as a subprocess, wait until it is ready, stop it and
check that nothing it started is left; or find one that already runs.

Used by `make demo` and `make invoke` when no stack runs, and by tests/e2e.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.local.client import request
from infra.local.environment import base_environment
from infra.local.gateway import HEALTH_PATH
from infra.local.settings import ROOT, SETTINGS_VARIABLES, STATE_FILE, ConfigError, LocalSettings, StackState

READY_TIMEOUT_S = 90.0


class LaunchError(RuntimeError):
    pass


def healthy(state: StackState) -> bool:
    base = state.api_url.rsplit("/", 1)[0]
    try:
        return request("GET", f"{base}{HEALTH_PATH}", timeout_s=2).status == 200
    except OSError:
        return False


def running(state_dir: Path) -> StackState | None:
    """The stack a `make dev` started with this state directory, if it is up."""
    state = StackState.load(state_dir / STATE_FILE)
    if state is None or not state.runner_alive() or not healthy(state):
        return None
    return state


@dataclass
class LaunchedStack:
    process: subprocess.Popen[bytes]
    state: StackState
    output_path: Path

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def stop(self, timeout_s: float = 30.0) -> list[int]:
        """Ctrl-C, as a developer would; returns the pids that were still left afterwards (and killed)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        leftovers = leftover_processes(self.process.pid)
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return leftovers


def launch(
    state_dir: Path, output_path: Path, env: dict[str, str] | None = None, *, inherit: bool = True
) -> LaunchedStack:
    """`make dev` with `env` on top of the caller's settings variables (none with inherit=False), in a
    clean environment otherwise; returns once it is ready."""
    inherited = {name: os.environ[name] for name in SETTINGS_VARIABLES if inherit and name in os.environ}
    full_env = {
        **base_environment(),
        **inherited,
        **(env or {}),
        "LOCAL_STATE_DIR": str(state_dir),
        "NO_COLOR": "1",
    }
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with output_path.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.dev"],
            cwd=ROOT,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own session: every process it starts can be found afterwards
        )
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LaunchError(
                f"make dev exited with code {process.returncode}:\n{output_path.read_text()[-3000:]}"
            )
        state = StackState.load(state_dir / STATE_FILE)
        if state is not None and state.runner_pid == process.pid and healthy(state):
            return LaunchedStack(process, state, output_path)
        time.sleep(0.2)
    LaunchedStack(process, StackState(process.pid, "", "", "", None, "", "", ""), output_path).stop()
    raise LaunchError(
        f"make dev was not ready within {READY_TIMEOUT_S:.0f} s:\n{output_path.read_text()[-3000:]}"
    )


def against_local_stack(tool: str, work: Callable[[StackState], int]) -> int:
    """Run `work` against the running local stack, or one started for it (as `make dev` would) and
    stopped afterwards; `tool` names the command in its messages. Returns `work`'s exit code."""
    try:
        settings = LocalSettings.from_env()
    except ConfigError as error:
        print(f"make {tool}: {error}", file=sys.stderr)
        return 2
    state = running(settings.state_dir)
    launched: LaunchedStack | None = None
    if state is None:
        print(f"make {tool}: no local stack is running; starting one (as `make dev` would)...", flush=True)
        try:
            launched = launch(settings.state_dir, settings.log_dir / f"{tool}-stack.log")
        except LaunchError as error:
            print(f"make {tool}: {error}", file=sys.stderr)
            return 1
        state = launched.state
    try:
        return work(state)
    finally:
        if launched is not None:
            launched.stop()
            print(f"\n(the stack it started is stopped; its log: {launched.output_path})")


def leftover_processes(session_id: int) -> list[int]:
    """Live processes of the session the runner led (everything it started, however deep). Linux /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, session = fields[0], int(fields[3])
        if session == session_id and state != "Z":
            found.append(int(stat.parent.name))
    return found
