"""Stripe's dispute evidence limits as its API reference states them, kept apart from both the service's
(payments/domain/dispute.py) and the emulator's copies, so the tests hold each to Stripe's word."""

# The explanation fields: 20,000 characters each, 150,000 for all the evidence together.
EXPLANATIONS = (
    "access_activity_log",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "duplicate_charge_explanation",
    "product_description",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "uncategorized_text",
)
