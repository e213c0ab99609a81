"""`python -m tools.operations`: the operator tools' command line (see tools/operations/__init__.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tools.operations import dead_letters, redeliver, replay
from tools.operations.deployment import (
    EXIT_FAILED,
    BadInput,
    Deployment,
    OperationError,
    aws,
    error_text,
    local,
)

if TYPE_CHECKING:
    from infra.local.settings import StackState

Command = Callable[[Deployment], int]


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.operations",
        description="Repair what the event pipeline could not deliver (docs/operations.md).",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stage", help="a deployed stage (dev, prod), with your AWS credentials")
    where.add_argument(
        "--local", action="store_true", help="the local stack: `make dev`, or one started for the command"
    )
    parser.add_argument("--region", help="AWS region (default: AWS_REGION or the profile's)")
    parser.add_argument("--profile", help="AWS profile (default: AWS_PROFILE or the default chain)")
    areas = parser.add_subparsers(dest="area", required=True, metavar="{dlq,archive,stripe}")

    dlq = areas.add_parser("dlq", help="dead-letter queues").add_subparsers(dest="command", required=True)
    listing = dlq.add_parser("list", help="each message with its error, leaving it in the queue")
    redrive = dlq.add_parser("redrive", help="deliver each message's event again to its function")
    for command in (listing, redrive):
        command.add_argument("--queue", help="a function (accounting) or a queue name; default: every one")
    redrive.add_argument("--max", type=int, help="redrive at most this many messages")

    archive = areas.add_parser("archive", help="the bus archive").add_subparsers(
        dest="command", required=True
    )
    replaying = archive.add_parser("replay", help="replay a time range of the archive to one rule")
    replaying.add_argument(
        "--from", dest="first", required=True, help="a day (2026-11-25, UTC) or an ISO time"
    )
    replaying.add_argument("--to", dest="last", help="a day (included) or an ISO time; default: --from's day")
    replaying.add_argument("--rule", required=True, help="a subscriber (accounting) or a rule of the bus")
    replaying.add_argument("--name", help="the replay's name; default: derived from the bus, rule and range")
    replaying.add_argument("--wait", action="store_true", help="wait until the replay has finished")

    stripe = areas.add_parser("stripe", help="Stripe's events").add_subparsers(dest="command", required=True)
    redelivering = stripe.add_parser("redeliver", help="deliver a Stripe event again through the webhook")
    redelivering.add_argument("--event", required=True, help="the Stripe event id (evt_...)")
    return parser


def command(args: argparse.Namespace) -> Command:
    """What to run, with the arguments checked first (a bad one fails before any stack is reached)."""
    if args.area == "dlq" and args.command == "list":
        return lambda at: dead_letters.list_dead_letters(at, args.queue)
    if args.area == "dlq":
        if args.max is not None and args.max < 1:
            raise BadInput("--max must be at least 1")
        return lambda at: dead_letters.redrive_dead_letters(at, args.queue, args.max)
    if args.area == "archive":
        span = replay.time_range(args.first, args.last, datetime.now(UTC))
        return lambda at: replay.replay_archive(at, span, args.rule, name=args.name, wait=args.wait)
    event_id = redeliver.check_event_id(args.event)
    return lambda at: redeliver.redeliver(at, event_id)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    name = f"{args.area}-{args.command}"  # the Makefile's target
    prefix = f"make {name}" if args.local else f"tools.operations {args.area} {args.command}"
    try:
        run = command(args)
    except OperationError as error:
        print(f"{prefix}: {error}", file=sys.stderr)
        return error.exit_code
    if args.local:
        from infra.local.launcher import against_local_stack

        def on_local(state: StackState) -> int:
            return _guarded(prefix, lambda: run(local(state.moto_url, state.dynamodb_url, state.api_url)))

        return against_local_stack(name, on_local)
    return _guarded(prefix, lambda: run(aws(args.stage, args.region, args.profile)))


def _guarded(prefix: str, work: Callable[[], int]) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return work()
    except OperationError as error:
        print(f"{prefix}: {error}", file=sys.stderr)
        return error.exit_code
    except (BotoCoreError, ClientError) as error:  # credentials, permissions, a service that failed
        print(f"{prefix}: AWS: {error_text(error)}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
