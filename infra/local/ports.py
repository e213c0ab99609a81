"""Is a port free on 127.0.0.1, and if not, who holds it (best effort, Linux /proc)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from infra.local.settings import HOST, PORT_VARIABLES, Port

_LISTEN = "0A"


def in_use(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR as the servers use it: a lingering TIME_WAIT is not "in use", a listener is.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def free_ports() -> dict[str, str]:
    """A free port for each of the stack's listeners (PORT_VARIABLES), all different."""
    ports: set[int] = set()
    while len(ports) < len(PORT_VARIABLES):
        ports.add(free_port())
    return dict(zip(PORT_VARIABLES, map(str, sorted(ports)), strict=True))


def holder(port: int) -> str | None:
    """`pid 1234: python -m moto.server ...` for the process listening on `port`, when /proc tells."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (proc / "fd").iterdir()}
        except OSError:
            continue  # gone, or not ours to look at
        if any(f"socket:[{inode}]" in links for inode in inodes):
            return f"pid {proc.name}: {_command(proc)}"
    return None


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 9 and fields[3] == _LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _command(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()[:120]
    except OSError:
        return "?"


def busy(ports: list[Port]) -> list[str]:
    """One message per port in use, saying what to do about it."""
    messages = []
    for port in ports:
        if in_use(port.number):
            who = holder(port.number)
            messages.append(
                f"port {port.number} ({port.name}) is already in use{' by ' + who if who else ''}.\n"
                f"  Stop that process, or choose another port: {port.env}={port.number + 1} make dev"
            )
    return messages
