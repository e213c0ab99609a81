"""`python -m infra.local.moto_server --port N`: moto's server on 127.0.0.1, with DynamoDB's atomicity.

DynamoDB applies a conditional write atomically; moto checks the condition and then writes without a
lock, so two threads of its server could both pass `version = :expected`. The payment state machine
relies on that condition (optimistic locking), so writes are serialized here to give DynamoDB's semantics.

Exits 2 with a clear message when the port is taken (moto's ThreadedMotoServer would hang instead).
"""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

EXIT_PORT_IN_USE = 2
_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


def serialize_dynamodb_writes() -> Callable[[], None]:
    """Make moto's DynamoDB write paths mutually exclusive; returns a function that undoes it."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    originals: dict[str, Any] = {}
    for name in _WRITES:
        original = getattr(DynamoDBBackend, name, None)
        if original is None:
            continue
        originals[name] = original

        def locked(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)

    def undo() -> None:
        for name, original in originals.items():
            setattr(DynamoDBBackend, name, original)

    return undo


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

    serialize_dynamodb_writes()
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
