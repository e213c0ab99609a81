"""The back-office console's response headers: its Content-Security-Policy and the other security headers.

One home for both servers of the console: CloudFront's response headers policy (infra/aws/console.py) and
the local server send exactly these.
"""

from __future__ import annotations

from collections.abc import Sequence

# Two years: what browsers' HSTS preload lists ask for.
HSTS_MAX_AGE_SECONDS = 2 * 365 * 24 * 60 * 60

SECURITY_HEADERS: dict[str, str] = {
    "Strict-Transport-Security": f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the console's URLs carry payment ids and, once, a sign-in code
    "X-Frame-Options": "DENY",  # for browsers without frame-ancestors
}


def content_security_policy(connect_origins: Sequence[str]) -> str:
    """The pages load only their own scripts, styles and images, and call only their own origin and
    `connect_origins` (the API, Cognito's token endpoint); no inline script, no framing, no <base>.
    form-action stays on our own origin (the sign-in leaves by navigation, which CSP does not govern)."""
    connect = " ".join(("'self'", *connect_origins))
    directives = (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        f"connect-src {connect}",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
    return "; ".join(directives)
