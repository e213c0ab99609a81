"""The one HTTP server of the local stack's servers: the API gateway, the Stripe emulator and the bench's
stand-in each bring only their request handler.

A LoopbackServer binds 127.0.0.1 when it is made (port 0: a free one; OSError when the port is taken),
serves on a daemon thread from `start()` and stops cleanly with `stop()`. Each connection gets a daemon
thread of its own, so a slow or idle client never holds the accept loop or a stopping process.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
# socketserver's default listen backlog is 5: a burst of concurrent clients overflows it, and the kernel
# drops their handshakes (clients stall for seconds, time out or are reset). Linux caps it at somaxconn.
LISTEN_BACKLOG = 1024
POLL_INTERVAL_S = 0.05  # how quickly the serving thread notices stop()


def loopback_host(host: str) -> str:
    """`host`, if it is the loopback interface: nothing local may listen beyond this machine."""
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"local servers bind only to the loopback interface, not {host!r}")
    return host


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() does not wait for open connections (keep-alive ones may idle long)
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__((loopback_host(host), port), handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL_S},
            name=f"{type(self).__name__} {self.url}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, then close the socket (a server that never started is only closed)."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer is not the server's error: no traceback for it."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


@dataclass(frozen=True)
class RequestLine:
    """The start of each server's transport-neutral request: its method and target, as sent."""

    method: str
    target: str  # path and query, as on the request line

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        return urlsplit(self.target).query


class LoopbackHandler(BaseHTTPRequestHandler):
    """GET, POST and DELETE go to `serve`; `send` writes an answer. No access log on stderr: each server
    logs its requests its own way."""

    sys_version = ""

    def do_GET(self) -> None:
        self.serve()

    do_POST = do_DELETE = do_GET

    def serve(self) -> None:
        raise NotImplementedError

    def declared_length(self) -> int:
        declared = self.headers.get("Content-Length", "0").strip()
        return int(declared) if declared.isdigit() else 0

    def send(self, status: int, headers: Iterable[tuple[str, str]], body: bytes) -> None:
        """The answer, framed here: the framing headers among `headers` are not sent."""
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection and self.protocol_version == "HTTP/1.1":
            self.send_header("Connection", "close")  # HTTP/1.0 closes after every answer anyway
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return
