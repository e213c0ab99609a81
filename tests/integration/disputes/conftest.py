"""Disputes through the handlers: a payment disputed at the Stripe emulator, its events delivered signed
to the webhook and run by the real subscribers (moto), and the admins' routes."""

from __future__ import annotations

import base64
from typing import Any

from tests.support.api import ApiResponse, call
from tests.support.stripe_webhooks import deliver, intent_of, pay

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def dispute_events(emulator: Any, dispute_id: str) -> list[dict[str, Any]]:
    return [e for e in emulator.events("charge.dispute.*") if e["data"]["object"]["id"] == dispute_id]


def deliver_news(emulator: Any, dispatcher: Any, dispute_id: str) -> None:
    """Every Stripe event about the dispute so far, through the webhook (which forwards each once) and
    the subscribers."""
    for event in dispute_events(emulator, dispute_id):
        assert deliver(event).status == 200
    assert {d.outcome for d in dispatcher.drain()} <= {"ok"}


def open_dispute(emulator: Any, dispatcher: Any, reason: str = "product_not_received") -> dict[str, Any]:
    """A paid payment disputed by its cardholder, Stripe's news applied. The payment and the dispute."""
    paid = pay()
    dispute = emulator.create_dispute(intent_of(paid["id"], emulator)["id"], reason=reason)
    deliver_news(emulator, dispatcher, dispute["id"])
    return {"payment": paid, "dispute": dispute}


def admin(method: str, path: str, **kwargs: Any) -> ApiResponse:
    return call(method, path, sub="admin-1", admin=True, **kwargs)


def evidence(dispute_id: str, body: dict[str, Any], **kwargs: Any) -> ApiResponse:
    return admin("POST", f"/disputes/{dispute_id}/evidence", body=body, **kwargs)


def file_part(field: str = "receipt", content: bytes = PDF, content_type: str = "application/pdf") -> dict:
    return {
        "field": field,
        "filename": f"{field}.pdf",
        "content_type": content_type,
        "content": base64.b64encode(content).decode(),
    }
