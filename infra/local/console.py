"""`make dev`'s log: one line per request, webhook, event and dispatch, from many threads at once."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TextIO

_COLORS = {"info": "", "ok": "\033[32m", "warn": "\033[33m", "error": "\033[31m", "dim": "\033[2m"}
_RESET = "\033[0m"
TAG_WIDTH = 8


class Console:
    def __init__(self, stream: TextIO | None = None, color: bool | None = None) -> None:
        self._stream = stream or sys.stdout
        if color is None:
            color = self._stream.isatty() and "NO_COLOR" not in os.environ
        self._color = color
        self._lock = threading.Lock()

    def line(self, tag: str, message: str, level: str = "info") -> None:
        stamp = time.strftime("%H:%M:%S")
        text = f"{stamp} {tag:<{TAG_WIDTH}} {message}"
        if self._color and _COLORS.get(level):
            text = f"{_COLORS[level]}{text}{_RESET}"
        with self._lock:
            self._stream.write(text + "\n")
            self._stream.flush()

    def text(self, block: str) -> None:
        """A block printed as is (the banner)."""
        with self._lock:
            self._stream.write(block if block.endswith("\n") else block + "\n")
            self._stream.flush()
