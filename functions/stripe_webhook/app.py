"""POST /v1/webhooks/stripe: verify Stripe's signature, dedupe on the event id, forward to the bus.

No authorizer: the Stripe-Signature HMAC over the raw body is the authentication. Decisions and
answers are documented in payments/application/webhook.py.
"""

from payments.http.webhook import lambda_handler

handler = lambda_handler()
