"""`python -m infra.local.stripe_emulator`: run the emulator as a process for the local stack."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from .emulator import StripeEmulator

DEFAULT_PORT = 12111
EXIT_USAGE = 2


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local.stripe_emulator", description="In-memory Stripe API emulator."
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=os.environ.get("STRIPE_EMULATOR_PORT", str(DEFAULT_PORT)),
        help=f"port, 0 for any free one (default $STRIPE_EMULATOR_PORT or {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--webhook-url", default=os.environ.get("STRIPE_WEBHOOK_URL"), help="endpoint receiving events"
    )
    parser.add_argument(
        "--webhook-secret",
        default=os.environ.get("STRIPE_WEBHOOK_SECRET"),
        help="whsec_... secret the events are signed with",
    )
    args = parser.parse_args(argv)
    if bool(args.webhook_url) != bool(args.webhook_secret):
        parser.error("--webhook-url and --webhook-secret go together")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stdout)
    endpoints = [(args.webhook_url, args.webhook_secret)] if args.webhook_url else []
    try:
        emulator = StripeEmulator(host=args.host, port=args.port, webhook_endpoints=endpoints).start()
    except ValueError as error:
        print(f"stripe-emulator: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(f"stripe-emulator: port {args.port} on {args.host} is already in use", file=sys.stderr)
        return EXIT_USAGE

    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    logging.getLogger("stripe_emulator").info("Stripe emulator listening on %s", emulator.url)
    while not stopping.wait(0.5):
        pass
    emulator.stop()
    logging.getLogger("stripe_emulator").info("Stripe emulator stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
