"""Event contracts: the JSON Schemas in events/schemas are the models' (regenerate with
`make schemas`), and every sample event matches its contract."""

import json
from pathlib import Path
from typing import get_args

import jsonschema
import pytest

from infra import catalog
from payments.application.stripe_event import StripeEvent
from payments.domain.events import DETAIL_MODELS, DomainEvent, EventType
from payments.domain.ledger import BOOKED_EVENTS
from tools.samples import schemas

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(folder: str) -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in sorted((EVENTS / folder).glob("*.json"))}


def test_every_event_type_has_a_detail_model_with_the_envelope_fields():
    assert set(DETAIL_MODELS) == set(get_args(EventType))
    for model in DETAIL_MODELS.values():
        assert set(model.model_fields) == set(DomainEvent.model_fields)


def test_schemas_on_disk_are_the_generated_ones():
    assert load("schemas") == schemas(), "run: make schemas"


@pytest.mark.parametrize("event_type", sorted(DETAIL_MODELS))
def test_bus_sample_matches_its_schema_and_model(event_type):
    sample = load("bus")[event_type]
    assert (sample["source"], sample["detail-type"]) == (catalog.DOMAIN_EVENT_SOURCE, event_type)
    jsonschema.validate(sample["detail"], load("schemas")[event_type])
    DETAIL_MODELS[event_type].model_validate(sample["detail"])


def test_the_schemas_refuse_a_wrong_type_and_a_missing_field():
    processed = load("bus")["PaymentProcessed"]["detail"]
    schema = load("schemas")["PaymentProcessed"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**processed, "event_type": "PaymentFailed"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({k: v for k, v in processed.items() if k != "data"}, schema)


def test_the_webhook_is_told_to_forward_exactly_what_subscribers_take():
    subscribed = {
        detail_type
        for fn in catalog.subscribers()
        if fn.subscription and fn.subscription.source == catalog.STRIPE_EVENT_SOURCE
        for detail_type in fn.subscription.detail_types
    }
    webhook = catalog.function("stripe_webhook")
    told = catalog.environment(webhook, {"idempotency": "t", "payments/stripe-webhook-secrets": "s"}, "bus")
    assert set(told["STRIPE_EVENT_TYPES"].split(",")) == subscribed


def test_accounting_takes_every_event_the_ledger_books():
    accounting = catalog.function("accounting").subscription
    assert set(accounting.detail_types) == BOOKED_EVENTS


@pytest.mark.parametrize("event_type", catalog.forwarded_stripe_events())
def test_every_forwarded_stripe_type_has_a_sample(event_type):
    event = StripeEvent.model_validate(load("stripe")[event_type])
    assert event.type == event_type
    assert event.livemode is False
