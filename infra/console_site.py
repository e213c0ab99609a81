"""The security headers of the back-office console's static site: one home for the policy, used by the
local gateway (infra/local/web.py) and by CloudFront's response headers policy (infra/aws/console.py).

The pages load nothing but their own files: no inline script or style, no other origin for scripts,
styles, images or fonts, no framing. The only other origins a page may talk to are the ones passed in
(the API's, Cognito's hosted UI domain for the token exchange); locally the API is the page's own origin.
"""

from __future__ import annotations

from collections.abc import Iterable

# Two years: what browsers' HSTS preload lists ask for.
HSTS_MAX_AGE_SECONDS = 2 * 365 * 24 * 60 * 60

# The headers CloudFront sets from its typed security settings (it refuses them as custom headers).
SECURITY_HEADERS: dict[str, str] = {
    "Strict-Transport-Security": f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the console's URLs carry payment ids and, once, a sign-in code
    "X-Frame-Options": "DENY",  # for browsers without frame-ancestors
}
# The rest, which CloudFront sends as custom headers.
OTHER_HEADERS: dict[str, str] = {
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def content_security_policy(connect_origins: Iterable[str] = ()) -> str:
    """The Content-Security-Policy header's value; `connect_origins` are the origins fetch() may reach
    besides the page's own (e.g. "https://api.example.com", "https://shop.auth.eu-west-1.amazoncognito.com")."""
    extra = [origin.rstrip("/") for origin in connect_origins]
    for origin in extra:
        if not origin.startswith(("https://", "http://127.0.0.1", "http://localhost")) or any(
            c in origin for c in " ;,'\""
        ):
            raise ValueError(f"not an origin for connect-src: {origin!r}")
    directives = {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'", *extra],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def security_headers(connect_origins: Iterable[str] = (), *, https: bool = True) -> list[tuple[str, str]]:
    """Every security header of a page or asset of the site. HSTS only over HTTPS (browsers ignore it on
    plain HTTP, which only the local stack serves)."""
    typed = {
        name: value
        for name, value in SECURITY_HEADERS.items()
        if https or name != "Strict-Transport-Security"
    }
    return [
        ("Content-Security-Policy", content_security_policy(connect_origins)),
        *typed.items(),
        *OTHER_HEADERS.items(),
    ]
