"""`dlq list` and `dlq redrive`: what a subscriber (or a schedule's function) gave up on, and its
delivery again after a fix.

A function's dead-letter queue receives two kinds of message (infra/aws/events.py wires one queue as
both):
- Lambda's on-failure record, when the handler kept failing (the usual case: EventBridge invokes
  Lambda asynchronously, Lambda retries twice, then records the invocation): the event is
  `requestPayload`, the error `responsePayload`, the attempts and the function `requestContext`.
  The local stack's dispatcher parks failures in this shape, too (infra/local/dispatcher.py).
- EventBridge's own, when it could not invoke the function at all (permissions, a deleted function,
  a day of throttling): the body is the event, the error in the message attributes ERROR_CODE and
  ERROR_MESSAGE, with RULE_ARN, TARGET_ARN and RETRY_ATTEMPTS.

Listing changes nothing: each message is received with a short visibility timeout and made visible
again. A redrive invokes the function the event failed for with the event (synchronously, so its
answer is known), deletes the message only when that invocation succeeded, and leaves the others in
the queue. Subscribers dedupe on the event's own id, so redriving an event twice applies it once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infra import catalog
from tools.operations.deployment import (
    EXIT_FAILED,
    EXIT_OK,
    BadInput,
    Deployment,
    error_code,
    error_text,
    resource_name,
    rule_functions,
)

PEEK_HOLD_S = 30  # how long a listed message is hidden before it is made visible again
# A message being redriven stays hidden this long (beyond any function's timeout), so a second
# operator's redrive cannot deliver it at the same time; failures are made visible again at the end.
REDRIVE_HOLD_S = 900
POLL_WAIT_S = 1  # long polling: SQS then answers from every server, so "empty" means empty
BATCH = 10  # SQS's most per receive
RECEIVE = {"AttributeNames": ["All"], "MessageAttributeNames": ["All"]}


@dataclass(frozen=True)
class Queue:
    name: str
    url: str
    owner: str | None  # the catalog function the queue belongs to


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    receipt_handle: str
    event: dict[str, Any] | None  # None: the body is neither shape; such a message is never deleted
    function: str | None  # the function (ARN or name) the event failed for
    error: str
    attempts: int | None
    parked_at: datetime | None

    @property
    def detail(self) -> dict[str, Any]:
        detail = (self.event or {}).get("detail")
        return detail if isinstance(detail, dict) else {}

    @property
    def event_id(self) -> str:
        """The id the subscriber dedupes on: a domain event's event_id, a Stripe event's id."""
        found = self.detail.get("event_id") or self.detail.get("id") or (self.event or {}).get("id")
        return str(found or "-")

    @property
    def detail_type(self) -> str:
        return str((self.event or {}).get("detail-type") or "-")

    @property
    def subject(self) -> str:
        return str(self.detail.get("payment_id") or "")

    @property
    def occurred_at(self) -> datetime | None:
        return _time((self.event or {}).get("time"))


def parse(message: dict[str, Any]) -> DeadLetter:
    """One SQS message of a dead-letter queue, in either shape (see the module's docstring)."""
    attributes = message.get("MessageAttributes") or {}
    sent = (message.get("Attributes") or {}).get("SentTimestamp")
    parked_at = datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None
    base = {"message_id": message["MessageId"], "receipt_handle": message["ReceiptHandle"]}
    try:
        body = json.loads(message.get("Body") or "")
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("requestPayload"), dict):  # Lambda's record
        context = body.get("requestContext") or {}
        response = body.get("responsePayload")
        if isinstance(response, dict) and (response.get("errorType") or response.get("errorMessage")):
            error = f"{response.get('errorType') or 'Error'}: {response.get('errorMessage') or ''}".strip()
        else:
            error = str(context.get("condition") or "failed")
        invoked = context.get("approximateInvokeCount")
        return DeadLetter(
            **base,
            event=body["requestPayload"],
            function=context.get("functionArn"),
            error=error,
            attempts=int(invoked) if isinstance(invoked, int) else None,
            parked_at=parked_at,
        )
    if isinstance(body, dict) and "detail-type" in body:  # EventBridge's: the event itself
        code, text = _attribute(attributes, "ERROR_CODE"), _attribute(attributes, "ERROR_MESSAGE")
        retries = _attribute(attributes, "RETRY_ATTEMPTS")
        return DeadLetter(
            **base,
            event=body,
            function=_attribute(attributes, "TARGET_ARN"),
            error=": ".join(p for p in (code, text) if p) or "no error recorded",
            attempts=int(retries) + 1 if retries and retries.isdigit() else None,
            parked_at=parked_at,
        )
    return DeadLetter(
        **base,
        event=None,
        function=None,
        error="unreadable: neither Lambda's failure record nor an EventBridge event",
        attempts=None,
        parked_at=parked_at,
    )


def _attribute(attributes: dict[str, Any], name: str) -> str | None:
    value = attributes.get(name)
    return str(value.get("StringValue")) if isinstance(value, dict) and value.get("StringValue") else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


# --------------------------------------------------------------------------- queues


def resolve(deployment: Deployment, sqs: Any, name: str | None) -> list[Queue]:
    """The queue named (a catalog function, a queue name or URL), or every function's that exists."""
    if name is None:
        found = [q for fn in rule_functions() if (q := _lookup(deployment, sqs, fn.name)) is not None]
        if not found:
            raise BadInput(
                f"no dead-letter queue of the service in {deployment.description}: is it deployed?"
            )
        return found
    queue = _lookup(deployment, sqs, name)
    if queue is None:
        known = ", ".join(fn.name for fn in rule_functions())
        raise BadInput(
            f"no dead-letter queue {name!r} in {deployment.description} (functions with one: {known})"
        )
    return [queue]


def _lookup(deployment: Deployment, sqs: Any, name: str) -> Queue | None:
    owners = {deployment.dead_letter_queue_name(fn.name): fn.name for fn in rule_functions()}
    if name in catalog.FUNCTIONS_BY_NAME:
        queue_name = deployment.dead_letter_queue_name(name)
    else:
        queue_name = name.rstrip("/").rsplit("/", 1)[-1]  # a name, or the last part of a queue URL
    try:
        url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    except Exception as error:
        if error_code(error) in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            return None
        raise
    return Queue(queue_name, str(url), owners.get(queue_name))


def _receive(sqs: Any, queue: Queue, hold_s: int, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Each message once (hidden for `hold_s` when received), until the queue has no other."""
    seen: set[str] = set()
    while limit is None or len(seen) < limit:
        wanted = BATCH if limit is None else min(BATCH, limit - len(seen))  # none held beyond the limit
        batch = sqs.receive_message(
            QueueUrl=queue.url,
            VisibilityTimeout=hold_s,
            WaitTimeSeconds=POLL_WAIT_S,
            MaxNumberOfMessages=wanted,
            **RECEIVE,
        ).get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in seen]
        if not fresh:
            return
        for message in fresh:
            seen.add(message["MessageId"])
            yield message


def _show_again(sqs: Any, queue: Queue, letters: list[DeadLetter]) -> None:
    """Make received messages visible again at once (a listing, or what a redrive left)."""
    for start in range(0, len(letters), BATCH):
        entries = [
            {"Id": str(i), "ReceiptHandle": letter.receipt_handle, "VisibilityTimeout": 0}
            for i, letter in enumerate(letters[start : start + BATCH])
        ]
        sqs.change_message_visibility_batch(QueueUrl=queue.url, Entries=entries)


# --------------------------------------------------------------------------- list


def peek(sqs: Any, queue: Queue) -> list[DeadLetter]:
    """Every message of the queue, leaving each in it, visible."""
    letters = [parse(m) for m in _receive(sqs, queue, PEEK_HOLD_S)]
    _show_again(sqs, queue, letters)
    return letters


def list_dead_letters(deployment: Deployment, queue_name: str | None) -> int:
    sqs = deployment.client("sqs")
    queues = resolve(deployment, sqs, queue_name)
    now = datetime.now(UTC)
    total = 0
    print(f"dead-letter queues of {deployment.description}")
    for queue in queues:
        letters = peek(sqs, queue)
        total += len(letters)
        if not letters:
            print(f"{queue.name}: empty")
            continue
        print(f"{queue.name}: {len(letters)} message{'s' if len(letters) != 1 else ''}")
        for letter in letters:
            print(describe(letter, now))
    if len(queues) > 1:
        print(f"{total} message{'s' if total != 1 else ''} in {len(queues)} queues")
    return EXIT_OK


def describe(letter: DeadLetter, now: datetime) -> str:
    attempts = "?" if letter.attempts is None else str(letter.attempts)
    parts = [
        f"  {letter.event_id}",
        letter.detail_type,
        letter.subject,
        f"attempts {attempts}",
        f"age {_age(letter.occurred_at, now)}",
        f"parked {_age(letter.parked_at, now)} ago",
    ]
    return "  ".join(p for p in parts if p) + f"\n      error: {letter.error}"


def _age(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "?"
    seconds = max(int((now - then).total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds}s" if minutes else f"{seconds}s"


# --------------------------------------------------------------------------- redrive


@dataclass
class Redrive:
    redriven: list[DeadLetter] = field(default_factory=list)
    failed: list[tuple[DeadLetter, str]] = field(default_factory=list)


def redrive_queue(
    deployment: Deployment, sqs: Any, functions: Any, queue: Queue, limit: int | None
) -> Redrive:
    outcome = Redrive()
    try:
        for message in _receive(sqs, queue, REDRIVE_HOLD_S, limit):
            letter = parse(message)
            target = letter.function or (deployment.function_name(queue.owner) if queue.owner else None)
            if letter.event is None:
                error: str | None = letter.error
            elif target is None:
                error = "no function to deliver it to (name the queue by its function)"
            else:
                error = deliver(functions, target, letter.event)
            line = f"{letter.event_id}  {letter.detail_type}  -> {resource_name(target or '?')}"
            if error is None:
                sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=letter.receipt_handle)
                outcome.redriven.append(letter)
                print(f"  redriven  {line}")
            else:
                outcome.failed.append((letter, error))
                print(f"  FAILED    {line}: {error}")
    finally:
        _show_again(sqs, queue, [letter for letter, _ in outcome.failed])
    return outcome


def deliver(functions: Any, function: str, event: dict[str, Any]) -> str | None:
    """Invoke `function` with `event` and wait for its answer: None when it succeeded, else the error."""
    try:
        response = functions.invoke(
            FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
        )
    except Exception as error:  # the function could not be invoked (missing, throttled, no permission)
        return error_text(error)
    payload = response["Payload"].read()
    if not response.get("FunctionError"):
        return None
    try:
        answer = json.loads(payload)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return str(response["FunctionError"])
    return (
        f"{answer.get('errorType') or response['FunctionError']}: {answer.get('errorMessage') or ''}".strip()
    )


def redrive_dead_letters(deployment: Deployment, queue_name: str | None, limit: int | None) -> int:
    if limit is not None and limit < 1:
        raise BadInput("--max must be at least 1")
    sqs, functions = deployment.client("sqs"), deployment.client("lambda")
    queues = resolve(deployment, sqs, queue_name)
    print(f"redrive of the dead-letter queues of {deployment.description}")
    redriven, failed = 0, 0
    for queue in queues:
        left = None if limit is None else limit - redriven - failed
        if left == 0:
            break
        print(f"{queue.name}:")
        outcome = redrive_queue(deployment, sqs, functions, queue, left)
        if not outcome.redriven and not outcome.failed:
            print("  empty: nothing to redrive")
        redriven += len(outcome.redriven)
        failed += len(outcome.failed)
    if not redriven and not failed:
        which = "the dead-letter queue is" if queue_name else "every dead-letter queue is"
        print(f"nothing to redrive: {which} empty")
        return EXIT_OK
    print(f"redriven {redriven}, failed again {failed}" + (" (left in the queue)" if failed else ""))
    return EXIT_FAILED if failed else EXIT_OK
