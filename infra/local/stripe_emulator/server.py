"""The HTTP adapter: the loopback server (infra/local/loopback.py) handing requests to the emulator and
logging them."""

from __future__ import annotations

import logging
from collections.abc import Callable

from infra.local.loopback import LoopbackHandler, LoopbackServer

from .errors import api_error
from .wire import HttpRequest, HttpResponse, json_response

log = logging.getLogger("stripe_emulator")

App = Callable[[HttpRequest], HttpResponse]

# Stripe's file uploads are the largest bodies (dispute evidence: 5 MB a file); the limit checks are the
# endpoints' own, so more than that is read.
_MAX_BODY = 16 << 20


class EmulatorHTTPServer(LoopbackServer):
    block_on_close = True  # one request per connection: stop() lets the ones in flight finish

    def __init__(self, host: str, port: int, app: App) -> None:
        self.app = app
        super().__init__(host, port, _Handler)


class _Handler(LoopbackHandler):
    # HTTP/1.0: one request per connection, so no idle keep-alive connection can be closed under a
    # client that is about to reuse it (which the SDK would report as a network error).
    protocol_version = "HTTP/1.0"
    server_version = "stripe-emulator"
    server: EmulatorHTTPServer

    def serve(self) -> None:
        response = self._respond(self._read_request())
        request_id = response.headers.get("Request-Id", "-")
        if response.disconnect:
            log.info("%s %s -> connection dropped (injected fault)", self.command, self.path)
            self.close_connection = True
            return
        replayed = " (idempotent replay)" if response.headers.get("Idempotent-Replayed") else ""
        log.info("%s %s -> %d %s%s", self.command, self.path, response.status, request_id, replayed)
        self.send(response.status, response.headers.items(), response.body)

    def _read_request(self) -> HttpRequest:
        length = min(self.declared_length(), _MAX_BODY)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        return HttpRequest(self.command, self.path, headers, body)

    def _respond(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.server.app(request)
        except Exception:  # a bug in the emulator must still produce a Stripe-shaped answer
            log.exception("unhandled error for %s %s", request.method, request.target)
            error = api_error("An unexpected error occurred in the Stripe emulator.")
            return json_response(500, error.body())
