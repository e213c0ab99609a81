"""Disputes: opened by a test card or the control API, answered with evidence, won or lost.

Evidence (`POST /v1/disputes/{id}`, `evidence[...]`) is staged with `submit=false` and submitted once:
after the submission Stripe takes no change of it. Explanations take 20,000 characters, other text 5,000,
documents are ids of files uploaded for dispute evidence (resources/files.py), all the staged fields
together 150,000 characters. Accepting (`close`) concedes a dispute still waiting for evidence.
"""

from __future__ import annotations

from ..errors import invalid_request
from ..ids import now
from ..model import SYSTEM, Obj, Origin, apply, merge_metadata, public
from ..money import DISPUTE_FEE
from ..params import Boolean, Hash, Metadata, String
from ..routing import Call, Route, endpoint, list_endpoint
from ..store import Store
from . import balance, files, payment_methods, radar

OPEN = ("warning_needs_response", "warning_under_review", "needs_response", "under_review")
NEEDS_RESPONSE = ("warning_needs_response", "needs_response")
REASONS = (
    "bank_cannot_process",
    "check_returned",
    "credit_not_processed",
    "customer_initiated",
    "debit_not_authorized",
    "duplicate",
    "fraudulent",
    "general",
    "incorrect_account_details",
    "insufficient_funds",
    "product_not_received",
    "product_unacceptable",
    "subscription_canceled",
    "unrecognized",
)
# Stripe's own evidence fields and limits, kept apart from the service's copy in domain/dispute.py on
# purpose: the emulator stands for Stripe and must refuse what Stripe refuses even if the service's
# checks were wrong (tests/integration/stripe_emulator/test_dispute_evidence.py holds both to Stripe's).
_EVIDENCE = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)
_FILES = (
    "cancellation_policy",
    "customer_communication",
    "customer_signature",
    "duplicate_charge_documentation",
    "receipt",
    "refund_policy",
    "service_documentation",
    "shipping_documentation",
    "uncategorized_file",
)
_EXPLANATIONS = (
    "access_activity_log",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "duplicate_charge_explanation",
    "product_description",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "uncategorized_text",
)
_EVIDENCE_CHARS = 150_000
_RESPONSE_WINDOW = 7 * 24 * 3600


def open_dispute(store: Store, charge: Obj, reason: str, origin: Origin) -> Obj:
    """Open a dispute and withdraw the disputed amount plus the dispute fee."""
    if charge["status"] != "succeeded" or not charge["captured"]:
        raise invalid_request(
            f"Charge {charge['id']} was not captured; it cannot be disputed.", param="charge"
        )
    if charge["disputed"]:
        raise invalid_request(f"Charge {charge['id']} has already been disputed.", param="charge")
    card = charge["payment_method_details"]["card"]
    dispute = store.create(
        "dispute",
        {
            "amount": charge["amount"],
            "balance_transactions": [],
            "charge": charge["id"],
            "currency": charge["currency"],
            "enhanced_eligibility_types": [],
            "evidence": dict.fromkeys(_EVIDENCE),
            "evidence_details": {
                "due_by": None,
                "enhanced_eligibility": {},
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "is_charge_refundable": False,
            "metadata": {},
            "network_reason_code": None,
            "payment_intent": charge["payment_intent"],
            "payment_method_details": {
                "card": {"brand": card["brand"], "case_type": "chargeback", "network_reason_code": None},
                "type": "card",
            },
            "reason": reason,
            "status": "needs_response",
        },
    )
    dispute["evidence_details"]["due_by"] = dispute["created"] + _RESPONSE_WINDOW
    withdrawal = f"Chargeback withdrawal for {charge['id']}"
    _add_transaction(store, dispute, -charge["amount"], "dispute", withdrawal)
    charge["disputed"] = True
    store.emit("charge.dispute.created", dispute, origin)
    store.emit("charge.dispute.funds_withdrawn", dispute, origin)
    radar.close_open_review(store, charge, "disputed", origin)
    radar.charge_settled(store, charge, origin)
    return dispute


def open_if_card_disputes(store: Store, charge: Obj) -> None:
    """`pm_card_createDispute`: the cardholder disputes as soon as the money moves."""
    payment_method = store.find(charge["payment_method"])
    if payment_method is not None and payment_methods.test_card(payment_method).disputes:
        open_dispute(store, charge, "fraudulent", SYSTEM)


def close(store: Store, dispute: Obj, *, won: bool, origin: Origin, status: str | None = None) -> None:
    """Won: the amount comes back (the dispute fee does not). Lost (or `status`): nothing comes back."""
    _require_open(dispute)
    if won:
        reversal = f"Chargeback reversal for {dispute['charge']}"
        _add_transaction(store, dispute, dispute["amount"], "dispute_reversal", reversal)
    previous = apply(dispute, {"status": status or ("won" if won else "lost")})
    store.emit("charge.dispute.closed", dispute, origin, previous)
    if won:
        store.emit("charge.dispute.funds_reinstated", dispute, origin)


def _add_transaction(store: Store, dispute: Obj, amount: int, category: str, description: str) -> None:
    withdrawal = amount < 0
    transaction = balance.record(
        store,
        amount=amount,
        currency=dispute["currency"],
        transaction_type="adjustment",
        source=dispute["id"],
        reporting_category=category,
        description=description,
        fee=DISPUTE_FEE if withdrawal else 0,
        fee_description="Dispute fee",
    )
    dispute["balance_transactions"].append(public(transaction))


def _require_open(dispute: Obj) -> None:
    if dispute["status"] not in OPEN:
        raise invalid_request(
            f"This dispute is already closed (status: {dispute['status']}).", param="dispute"
        )


def _retrieve(call: Call) -> Obj:
    return call.store.get("dispute", call.path["dispute"], param="dispute")


def _update(call: Call) -> Obj:
    dispute = _retrieve(call)
    _require_open(dispute)
    params, changes = call.params, {}
    details = dict(dispute["evidence_details"])
    # Stripe's `submit` defaults to true; here it only defaults to true when evidence is sent, so
    # a metadata-only update does not submit.
    submit = params.get("submit", "evidence" in params)
    if (params.get("evidence") or submit) and details["submission_count"] > 0:
        raise invalid_request(
            "This dispute's evidence has already been submitted: it can no longer be changed or "
            "submitted again.",
            param="evidence" if params.get("evidence") else "submit",
        )
    evidence = dispute["evidence"]
    if params.get("evidence"):
        evidence = _staged(call.store, evidence, params["evidence"])
        changes["evidence"] = evidence
        details["has_evidence"] = any(evidence.values())
    if "metadata" in params:
        changes["metadata"] = merge_metadata(dispute["metadata"], params["metadata"])
    if submit:
        if not any(evidence.values()):
            raise invalid_request("There is no evidence to submit: stage some first.", param="evidence")
        changes["status"] = dispute["status"].replace("needs_response", "under_review")
        details["submission_count"] += 1
        details["past_due"] = details["due_by"] is not None and now() > details["due_by"]
    if details != dispute["evidence_details"]:
        changes["evidence_details"] = details
    previous = apply(dispute, changes)
    if previous:
        call.store.emit("charge.dispute.updated", dispute, call.origin, previous)
    return dispute


def _staged(store: Store, staged: Obj, sent: Obj) -> Obj:
    """The evidence with `sent` staged over it (an empty value unsets a field), as Stripe checks it."""
    for name, value in sent.items():
        if value is not None and name in _FILES:
            files.dispute_evidence_file(store, value, f"evidence[{name}]")
    merged = {**staged, **sent}
    if sum(len(value) for value in merged.values() if value) > _EVIDENCE_CHARS:
        raise invalid_request(
            f"The evidence fields together may hold at most {_EVIDENCE_CHARS} characters.", param="evidence"
        )
    return merged


def _close(call: Call) -> Obj:
    """Accepting a dispute (`POST /v1/disputes/{id}/close`) concedes it: `lost` (an inquiry:
    `warning_closed`). Only while it waits for evidence: once submitted, the bank decides."""
    dispute = _retrieve(call)
    _require_open(dispute)
    if dispute["status"] not in NEEDS_RESPONSE:
        raise invalid_request(
            f"This dispute is {dispute['status']}: its evidence was submitted, so it can no longer be "
            "closed.",
            param="dispute",
        )
    conceded = "warning_closed" if dispute["status"].startswith("warning_") else "lost"
    close(call.store, dispute, won=False, origin=call.origin, status=conceded)
    return dispute


ROUTES: list[Route] = [
    list_endpoint("/v1/disputes", "dispute", {"charge": String(), "payment_intent": String()}),
    endpoint("GET", "/v1/disputes/{dispute}", _retrieve, "dispute"),
    endpoint(
        "POST",
        "/v1/disputes/{dispute}",
        _update,
        "dispute",
        {
            "evidence": Hash(
                {name: String(max_length=20000 if name in _EXPLANATIONS else 5000) for name in _EVIDENCE}
            ),
            "metadata": Metadata(),
            "submit": Boolean(),
        },
    ),
    endpoint("POST", "/v1/disputes/{dispute}/close", _close, "dispute"),
]
