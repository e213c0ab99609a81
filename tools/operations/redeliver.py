"""`stripe redeliver --event evt_...`: a Stripe event its webhook never brought (an endpoint disabled
after days of failures, a wrong signing secret, an outage longer than Stripe's three days of retries),
fetched from Stripe by id (Stripe keeps events for 30 days) and handed to the webhook's own receiver
after the point where the webhook checks Stripe's signature: the same mode check, the same filter of
the types a subscriber handles, the same slimming, and the same dedupe on the event id, so an event
already forwarded (by its webhook or an earlier redelivery) is not forwarded again.

It runs the service's code in this process with the webhook function's settings, read from the
function itself (GetFunctionConfiguration), and the Stripe API key's secret, named by a function that
reads it: the tool reaches Stripe, the idempotency table and the bus as the service does.
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime
from typing import Any

from infra import catalog
from tools.operations.deployment import EXIT_OK, BadInput, Deployment, OperationError, error_code

EVENT_ID = re.compile(r"^evt_\w+$")  # as payments.application.stripe_event validates it
WEBHOOK = catalog.function("stripe_webhook")


def check_event_id(event_id: str) -> str:
    if not EVENT_ID.match(event_id):
        raise BadInput(f"--event {event_id!r} is not a Stripe event id (evt_...)")
    return event_id


def service_environment(deployment: Deployment) -> dict[str, str]:
    """The webhook's settings as deployed, and the name of the Stripe API key's secret."""
    from payments.config import Settings

    functions = deployment.client("lambda")
    reader = next(f for f in catalog.FUNCTIONS if catalog.STRIPE_API_KEY in f.secrets)
    webhook = _variables(functions, deployment, WEBHOOK.name)
    key = _variables(functions, deployment, reader.name).get(catalog.STRIPE_API_KEY.env)
    if not key:
        raise OperationError(f"{deployment.function_name(reader.name)} names no {catalog.STRIPE_API_KEY.env}")
    known = {f.alias for f in Settings.model_fields.values() if f.alias}
    return {**{k: v for k, v in webhook.items() if k in known}, catalog.STRIPE_API_KEY.env: key}


def _variables(functions: Any, deployment: Deployment, name: str) -> dict[str, str]:
    physical = deployment.function_name(name)
    try:
        configuration = functions.get_function_configuration(FunctionName=physical)
    except Exception as error:
        if error_code(error) == "ResourceNotFoundException":
            raise BadInput(f"no function {physical} in {deployment.description}: is it deployed?") from None
        raise
    return dict((configuration.get("Environment") or {}).get("Variables") or {})


class Deadline:
    """The one thing the idempotency records read of a Lambda context: the time left. A redelivery that
    dies midway then leaves an in-progress record that expires as a webhook invocation's would."""

    def __init__(self, seconds: float) -> None:
        self._until = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._until - time.monotonic()) * 1000), 0)


def redeliver(deployment: Deployment, event_id: str) -> int:
    check_event_id(event_id)
    os.environ.update({**deployment.process_environment, **service_environment(deployment)})
    from payments import services
    from payments.application.webhook import WebhookOutcome, validate_event
    from payments.config import settings
    from payments.domain.errors import PaymentsError

    services.reset()  # built from the settings just put in place, not from any earlier
    print(f"Stripe event {event_id}, through the webhook's receiver of {deployment.description}")
    try:
        raw = services.stripe_events().retrieve_event(event_id)
    except PaymentsError as error:
        if error.extra.get("provider_code") == "resource_missing":
            raise BadInput(f"Stripe has no event {event_id} (it keeps events for 30 days)") from None
        raise OperationError(f"Stripe: {error.detail}") from None
    try:
        event = validate_event(raw)
        receipt = services.webhook_receiver().accept(raw, event, Deadline(WEBHOOK.timeout_s))
    except PaymentsError as error:  # another mode's event, an event still being forwarded by its webhook
        raise OperationError(f"not forwarded: {error.code}: {error.detail}") from None
    created = datetime.fromtimestamp(event.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = f"{event.id} {event.type} (created at Stripe {created})"
    if receipt.outcome is WebhookOutcome.FORWARDED:
        slimmed = ", slimmed to fit (subscribers fetch the rest)" if receipt.slimmed else ""
        print(f"{head}: forwarded to the bus {settings().event_bus_name}{slimmed}")
    elif receipt.outcome is WebhookOutcome.DUPLICATE:
        print(f"{head}: already forwarded (by its webhook or an earlier redelivery): nothing sent again")
    else:
        print(f"{head}: no subscriber handles {event.type}, so the webhook ignores it: nothing sent")
    return EXIT_OK
