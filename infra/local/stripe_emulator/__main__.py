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
from .webhooks import WebhookChaos

DEFAULT_PORT = 12111
EXIT_USAGE = 2


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true")


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
    parser.add_argument(
        "--webhook-chaos",
        metavar="SEED|SPEC",
        default=os.environ.get("STRIPE_EMULATOR_WEBHOOK_CHAOS") or None,
        help="deliver webhooks reordered, duplicated and delayed, reproducibly from a seed: `7`, or "
        "`seed=7,duplicates=0.3,max_delay_ms=200,reorder=true` (default $STRIPE_EMULATOR_WEBHOOK_CHAOS)",
    )
    parser.add_argument(
        "--async-balance-transactions",
        action="store_true",
        default=_env_flag("STRIPE_EMULATOR_ASYNC_BALANCE_TRANSACTIONS"),
        help="every capture leaves balance_transaction null until settled through the control API "
        "(default $STRIPE_EMULATOR_ASYNC_BALANCE_TRANSACTIONS=1)",
    )
    parser.add_argument(
        "--pending-balance",
        action="store_true",
        default=_env_flag("STRIPE_EMULATOR_PENDING_BALANCE"),
        help="charges' balance transactions stay pending (not paid out) until made available through "
        "the control API (default $STRIPE_EMULATOR_PENDING_BALANCE=1)",
    )
    parser.add_argument(
        "--hold-payouts",
        action="store_true",
        default=_env_flag("STRIPE_EMULATOR_HOLD_PAYOUTS"),
        help="automatic payouts stay pending until paid through the control API "
        "(default $STRIPE_EMULATOR_HOLD_PAYOUTS=1)",
    )
    parser.add_argument(
        "--search-lag",
        type=float,
        metavar="SECONDS",
        default=os.environ.get("STRIPE_EMULATOR_SEARCH_LAG", "0"),
        help="seconds before a change shows in the Search API (default $STRIPE_EMULATOR_SEARCH_LAG or 0)",
    )
    args = parser.parse_args(argv)
    if bool(args.webhook_url) != bool(args.webhook_secret):
        parser.error("--webhook-url and --webhook-secret go together")
    if args.webhook_chaos is not None:
        try:
            args.webhook_chaos = WebhookChaos.parse(args.webhook_chaos)
        except ValueError as error:
            parser.error(f"--webhook-chaos: {error}")
    if args.search_lag < 0:
        parser.error("--search-lag must be 0 or more")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stdout)
    endpoints = [(args.webhook_url, args.webhook_secret)] if args.webhook_url else []
    try:
        emulator = StripeEmulator(
            host=args.host,
            port=args.port,
            webhook_endpoints=endpoints,
            webhook_chaos=args.webhook_chaos,
            async_balance_transactions=args.async_balance_transactions,
            search_lag=args.search_lag,
            pending_balance=args.pending_balance,
            hold_payouts=args.hold_payouts,
        ).start()
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
    if args.webhook_chaos is not None:
        logging.getLogger("stripe_emulator").info("webhook chaos: %s", args.webhook_chaos.describe())
    while not stopping.wait(0.5):
        pass
    emulator.stop()
    logging.getLogger("stripe_emulator").info("Stripe emulator stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
