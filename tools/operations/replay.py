"""`archive replay`: the bus archive's events of a time range, delivered again to one rule (a subscriber,
after a fix), with EventBridge's StartReplay and `Destination.FilterArns`.

Consumers dedupe (a Stripe event id, a domain event id, states that only move forward), so a replay
applies only what was missing. The replay's name derives from the bus, the rule and the range, so the
same command again finds the first replay and shows its state instead of starting another.

Times: a day (`2026-11-25`) is that whole UTC day (as `--to`, up to its end, like `make reconcile`'s
period); a moment is ISO 8601 (`2026-11-25T10:00:00Z`, UTC when it names no offset), `--to` exclusive.
Without `--to`, the range ends with `--from`'s day; a range that ends in the future ends now.

Locally the replay is moto's, patched to keep to the range and the rule (infra/local/moto_patches.py);
its events reach the subscriber's queue and the dispatcher.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from infra import catalog
from tools.operations.deployment import (
    EXIT_FAILED,
    EXIT_OK,
    BadInput,
    Deployment,
    OperationError,
    error_code,
)

NAME_LIMIT = 64  # EventBridge's, pattern [.-_A-Za-z0-9]+
DONE = ("COMPLETED", "FAILED", "CANCELLED")
WAIT_POLL_S = 10.0
# EventBridge may take a few minutes to put an event into its archive (its guide says to wait 10).
ARCHIVE_LAG = timedelta(minutes=10)


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime  # as asked; the replay itself ends at `end` or now, whichever comes first


def time_range(first: str, last: str | None, now: datetime) -> TimeRange:
    """The range `--from first --to last` names (see the module's docstring)."""
    start, _ = _moment(first, "--from")
    if last is None:  # the rest of --from's day
        end = datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(days=1)
    else:
        end, end_is_day = _moment(last, "--to")
        if end_is_day:
            end += timedelta(days=1)
    if start >= end:
        raise BadInput(f"--from {first} must come before --to {last or first}")
    if start >= now:
        raise BadInput(f"--from {first} is in the future: nothing is archived from then yet")
    return TimeRange(start, end)


def _moment(text: str, option: str) -> tuple[datetime, bool]:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        if len(text) == 10:  # YYYY-MM-DD: a whole day
            return datetime(day.year, day.month, day.day, tzinfo=UTC), True
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"{option} {text!r}: give a day (2026-11-25) or an ISO 8601 time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC), False


def replay_name(bus: str, rule: str, span: TimeRange) -> str:
    """The same bus, rule and range always make the same name (one replay per range and rule)."""
    stamp = "%Y%m%dT%H%M%SZ"
    name = f"{bus}-{rule}-{span.start.strftime(stamp)}-{span.end.strftime(stamp)}"
    name = re.sub(r"[^.\-_A-Za-z0-9]", "-", name)
    if len(name) <= NAME_LIMIT:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: NAME_LIMIT - 9]}-{digest}"


# --------------------------------------------------------------------------- the bus, its archive, rules


def bus_arn(events: Any, deployment: Deployment) -> str:
    try:
        return str(events.describe_event_bus(Name=deployment.bus)["Arn"])
    except Exception as error:
        if error_code(error) == "ResourceNotFoundException":
            raise BadInput(
                f"no event bus {deployment.bus} in {deployment.description}: is it deployed?"
            ) from None
        raise


def archive_of(events: Any, source_arn: str) -> dict[str, Any]:
    """The service's archive of the bus (the one archiving both sources, if the bus has several)."""
    archives = [
        a for a in events.list_archives(EventSourceArn=source_arn)["Archives"] if a["State"] == "ENABLED"
    ]
    if not archives:
        raise OperationError(f"the bus {source_arn} has no enabled archive: nothing can be replayed")
    if len(archives) > 1:
        ours = [a for a in archives if _archives_our_sources(events, a["ArchiveName"])]
        archives = ours or archives
    return dict(events.describe_archive(ArchiveName=archives[0]["ArchiveName"]))


def _archives_our_sources(events: Any, name: str) -> bool:
    pattern = json.loads(events.describe_archive(ArchiveName=name).get("EventPattern") or "{}")
    return set(pattern.get("source") or ()) == set(catalog.ARCHIVED_SOURCES)


def find_rule(events: Any, deployment: Deployment, rule: str) -> tuple[str, str]:
    """(label, ARN) of the rule: a subscriber's (by its catalog name), or a rule of the bus by name."""
    subscribers = [f.name for f in catalog.subscribers()]
    if rule in subscribers:
        for candidate in _rules(events, deployment.bus):
            targets = events.list_targets_by_rule(Rule=candidate["Name"], EventBusName=deployment.bus)
            if any(deployment.delivers_to(t["Arn"], rule) for t in targets.get("Targets", [])):
                return rule, str(candidate["Arn"])
        raise BadInput(f"no rule on the bus {deployment.bus} delivers to {rule}: is it deployed?")
    try:
        found = events.describe_rule(Name=rule, EventBusName=deployment.bus)
    except Exception as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
        raise BadInput(
            f"no rule {rule!r} on the bus {deployment.bus}; name a subscriber ({', '.join(subscribers)}) "
            "or one of the bus's rules"
        ) from None
    return str(found["Name"]), str(found["Arn"])


def _rules(events: Any, bus: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = events.list_rules(EventBusName=bus, **({"NextToken": token} if token else {}))
        found += page.get("Rules", [])
        token = page.get("NextToken")
        if not token:
            return found


# --------------------------------------------------------------------------- the command


def replay_archive(
    deployment: Deployment,
    span: TimeRange,
    rule: str,
    *,
    name: str | None = None,
    wait: bool = False,
    now: datetime | None = None,
) -> int:
    now = now or datetime.now(UTC)
    events = deployment.client("events")
    source = bus_arn(events, deployment)
    label, rule_arn = find_rule(events, deployment, rule)
    archive = archive_of(events, source)
    replay = name or replay_name(deployment.bus, label, span)
    if not re.fullmatch(r"[.\-_A-Za-z0-9]{1,64}", replay):
        raise BadInput(f"--name {replay!r}: at most 64 of A-Z a-z 0-9 . - _")
    end = min(span.end, now)
    print(
        f"archive {archive['ArchiveName']} of {deployment.description}: {_when(span.start)} .. {_when(end)}"
    )
    print(f"to rule {label} ({rule_arn})")
    retention = int(archive.get("RetentionDays") or 0)
    kept_since = now - timedelta(days=retention)
    if retention and span.start < kept_since:
        print(f"note: the archive keeps {retention} days; events before {_when(kept_since)} are gone")
    if not deployment.archives_at_once and end > now - ARCHIVE_LAG:
        print(
            "note: EventBridge archives an event within minutes; the last ones may not be in the archive yet"
        )
    try:
        events.start_replay(
            ReplayName=replay,
            Description=f"{label}: {_when(span.start)} .. {_when(end)} (python -m tools.operations)",
            EventSourceArn=archive["ArchiveArn"],
            EventStartTime=span.start,
            EventEndTime=end,
            Destination={"Arn": source, "FilterArns": [rule_arn]},
        )
        print(f"replay {replay} started")
    except Exception as error:
        if error_code(error) != "ResourceAlreadyExistsException":
            raise
        print(f"replay {replay} already exists (this range and rule): not started again")
    state = _show(events, replay)
    while wait and state not in DONE:
        time.sleep(WAIT_POLL_S)
        state = _show(events, replay)
    return EXIT_FAILED if state in ("FAILED", "CANCELLED") else EXIT_OK


def _show(events: Any, name: str) -> str:
    described = events.describe_replay(ReplayName=name)
    state = str(described.get("State"))
    span = f"events {_when(described.get('EventStartTime'))} .. {_when(described.get('EventEndTime'))}"
    ran = f"started {_when(described.get('ReplayStartTime'))}"
    if described.get("ReplayEndTime"):
        ran += f", ended {_when(described.get('ReplayEndTime'))}"
    reason = f" ({described['StateReason']})" if described.get("StateReason") else ""
    print(f"state {state}{reason}: {span}; {ran}")
    return state


def _when(moment: Any) -> str:
    if not isinstance(moment, datetime):
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
