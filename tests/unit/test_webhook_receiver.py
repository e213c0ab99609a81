"""The webhook's use case with in-memory ports: what is forwarded, refused, ignored or slimmed."""

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import stripe

from infra import catalog
from payments.adapters.stripe.webhooks import verify_signature
from payments.application.stripe_event import StripeEvent
from payments.application.webhook import WebhookOutcome, WebhookReceiver, slim
from payments.domain.errors import BadRequest

SECRET = "whsec_unit"
SAMPLE = Path(__file__).resolve().parents[2] / "events" / "stripe" / "charge.dispute.closed.json"


@dataclass
class Forwarder:
    max_bytes: int = 256 * 1024
    forwarded: list[dict] = field(default_factory=list)

    def fits(self, event):
        return len(json.dumps(event)) <= self.max_bytes

    def forward(self, event):
        self.forwarded.append(event)


@dataclass
class Dedupe:
    done: set[str] = field(default_factory=set)

    def first_time(self, key, action, lambda_context=None):
        if key in self.done:
            return False
        action()  # raises: not remembered
        self.done.add(key)
        return True


def receiver(forwarder=None, livemode=False) -> WebhookReceiver:
    return WebhookReceiver(
        verify=verify_signature,
        secrets=lambda: [SECRET],
        forwarder=forwarder or Forwarder(),
        dedupe=Dedupe(),
        forwarded=frozenset(catalog.forwarded_stripe_events()),
        livemode=livemode,
    )


def signed(event: dict) -> tuple[bytes, str]:
    payload = json.dumps(event)
    return payload.encode(), stripe.WebhookSignature.generate_signature_header(
        payload, SECRET, int(time.time())
    )


def sample() -> dict:
    return json.loads(SAMPLE.read_text())


def test_forwards_a_verified_event_once():
    forwarder = Forwarder()
    hook = receiver(forwarder)
    first = hook.receive(*signed(sample()))
    again = hook.receive(*signed(sample()))
    assert (first.outcome, again.outcome) == (WebhookOutcome.FORWARDED, WebhookOutcome.DUPLICATE)
    assert forwarder.forwarded == [sample()]
    assert first.event_type == "charge.dispute.closed"


def test_unhandled_types_are_acknowledged_and_ignored():
    forwarder = Forwarder()
    event = {**sample(), "type": "customer.created"}
    assert receiver(forwarder).receive(*signed(event)).outcome is WebhookOutcome.IGNORED
    assert forwarder.forwarded == []


def test_the_other_mode_is_refused():
    with pytest.raises(BadRequest) as refused:
        receiver(livemode=True).receive(*signed(sample()))
    assert refused.value.code == "livemode_mismatch"


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"id": "evt_1"}', b"\xff\xfe"])
def test_a_signed_body_that_is_not_an_event_is_refused(body):
    # Signed over the exact bytes (the SDK's signer takes text, and one body is not UTF-8).
    t = int(time.time())
    header = f"t={t},v1=" + hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    with pytest.raises(BadRequest) as refused:
        receiver().receive(body, header)
    assert refused.value.code == "malformed_event"


def test_a_failed_forward_is_not_remembered():
    class Failing(Forwarder):
        def forward(self, event):
            raise RuntimeError("PutEvents failed")

    hook = receiver(Failing())
    with pytest.raises(RuntimeError):
        hook.receive(*signed(sample()))
    hook.forwarder = Forwarder()
    assert hook.receive(*signed(sample())).outcome is WebhookOutcome.FORWARDED


def test_an_event_too_large_for_the_bus_is_forwarded_slimmed():
    forwarder = Forwarder(max_bytes=2_000)
    event = sample()
    receipt = receiver(forwarder).receive(*signed(event))
    (sent,) = forwarder.forwarded
    assert receipt.slimmed
    assert sent["payments_slimmed"] is True
    assert len(json.dumps(sent)) < 2_000
    obj = sent["data"]["object"]
    # What subscribers need to route and map it stays; nested structures go (fetched from Stripe).
    assert {
        k: obj[k] for k in ("id", "object", "status", "amount", "currency", "charge", "payment_intent")
    } == {
        k: event["data"]["object"][k]
        for k in ("id", "object", "status", "amount", "currency", "charge", "payment_intent")
    }
    assert "balance_transactions" not in obj
    assert "evidence" not in obj
    parsed = StripeEvent.model_validate(sent)
    assert parsed.slimmed
    assert (parsed.id, parsed.type) == (event["id"], event["type"])


def test_slim_keeps_metadata():
    event = {**sample()}
    event["data"] = {
        "object": {"id": "pi_1", "object": "payment_intent", "metadata": {"payment_id": "pay_1"}, "x": [1]}
    }
    assert slim(event)["data"]["object"] == {
        "id": "pi_1",
        "object": "payment_intent",
        "metadata": {"payment_id": "pay_1"},
    }
