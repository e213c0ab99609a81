"""`python -m infra.local.moto_server --port N`: moto's server on 127.0.0.1, with DynamoDB's atomicity.

Patched to behave like DynamoDB where the service depends on it (infra/local/moto_patches.py): atomic
conditional writes, and transactions whose cost does not grow with the table; EventBridge replays
that keep to their time range and rules; and no work repeated per request on its hot paths.

Exits 2 with a clear message when the port is taken (moto's ThreadedMotoServer would hang instead).
"""

from __future__ import annotations

import argparse
import errno
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from infra.local.moto_patches import like_dynamodb, replays_like_eventbridge, server_hot_paths

EXIT_PORT_IN_USE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.moto_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    like_dynamodb()
    replays_like_eventbridge()
    server_hot_paths()
    # werkzeug logs a line per request, under one lock shared by every server thread: under load it
    # cost the server more than the requests it served. Errors are still logged.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    try:
        server = make_server(
            args.host,
            args.port,
            DomainDispatcherApplication(create_backend_app),
            threaded=True,
            request_handler=MotoRequestHandler,
        )
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(f"moto server: port {args.port} on {args.host} is already in use", file=sys.stderr)
        return EXIT_PORT_IN_USE
    except SystemExit:  # werkzeug exits(1) on a taken port after printing its own message
        print(f"moto server: port {args.port} on {args.host} is already in use", file=sys.stderr)
        return EXIT_PORT_IN_USE

    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(f"moto server listening on http://{args.host}:{args.port}", flush=True)
    while not stopping.wait(0.5):  # a timed wait keeps the main thread responsive to signals
        pass
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
