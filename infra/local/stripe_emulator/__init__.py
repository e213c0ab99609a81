"""A stateful in-memory emulator of the Stripe API for integration tests and the local stack.

    from infra.local.stripe_emulator import StripeEmulator

    with StripeEmulator(port=0) as emu:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": emu.url})

Run it standalone with `python -m infra.local.stripe_emulator --port 12111`.
"""

from .emulator import StripeEmulator
from .errors import ApiError
from .webhooks import WebhookChaos, signature_header

__all__ = ["ApiError", "StripeEmulator", "WebhookChaos", "signature_header"]
