"""Local stand-in for Cognito: HS256 ID tokens signed with LOCAL_JWT_SECRET, verified by the local gateway.

The claims have Cognito's ID-token names (sub, cognito:groups, cognito:username, email, token_use, exp),
and `authorizer_claims` flattens them the way a REST API's Cognito authorizer hands them to a function:
every value a string.

`make token ROLE=customer|admin SUB=<id>` (this module's CLI) prints one token and nothing else.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

import jwt

from infra import catalog
from infra.local.settings import ConfigError, LocalSettings, StackState

ISSUER = "https://cognito-idp.local/local_pool"
AUDIENCE = "local-client"
DEFAULT_TTL_SECONDS = 12 * 3600
DEFAULT_SUBS = {"customer": "alice", "admin": "backoffice"}
_BEARER = "bearer "


class TokenRejected(Exception):
    """Why the authorizer refused the request, in API Gateway's own words."""


def issue_token(
    secret: str,
    sub: str,
    *,
    admin: bool = False,
    email: str | None = None,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: float | None = None,
) -> str:
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": sub,
        "cognito:username": sub,
        "email": email or f"{sub}@example.com",
        "email_verified": True,
        "token_use": "id",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "auth_time": issued,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    if admin:
        claims["cognito:groups"] = [catalog.ADMIN_GROUP]
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(secret: str, authorization: str | None) -> dict[str, Any]:
    """The token's claims, or TokenRejected. Accepts the raw token or `Bearer <token>`."""
    token = (authorization or "").strip()
    if token.lower().startswith(_BEARER):
        token = token[len(_BEARER) :].strip()
    if not token:
        raise TokenRejected("Unauthorized")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejected("The incoming token has expired") from None
    except jwt.InvalidTokenError:
        raise TokenRejected("Unauthorized") from None
    if claims.get("token_use") != "id":
        raise TokenRejected("Unauthorized")  # without scopes the authorizer takes ID tokens only
    return claims


_DATE_CLAIMS = ("exp", "iat", "auth_time")


def authorizer_claims(claims: dict[str, Any]) -> dict[str, str]:
    """`requestContext.authorizer.claims` as a REST API's Cognito authorizer builds it."""
    flat: dict[str, str] = {}
    for name, value in claims.items():
        if name in _DATE_CLAIMS and isinstance(value, int):
            flat[name] = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(value))
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        elif isinstance(value, list):
            flat[name] = ",".join(str(v) for v in value)
        else:
            flat[name] = str(value)
    return flat


def signing_secret(settings: LocalSettings) -> str:
    """The running stack's key when one runs (it may have been started with another LOCAL_JWT_SECRET)."""
    state = StackState.load(settings.state_file)
    return state.jwt_secret if state and state.runner_alive() else settings.jwt_secret


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make token", description="Print a token the local gateway accepts."
    )
    parser.add_argument("--role", choices=sorted(DEFAULT_SUBS), default="customer")
    parser.add_argument("--sub", help="the caller's id (default: alice for customer, backoffice for admin)")
    parser.add_argument("--ttl", type=int, default=DEFAULT_TTL_SECONDS, help="seconds until it expires")
    args = parser.parse_args(argv)
    try:
        settings = LocalSettings.from_env()
    except ConfigError as error:
        print(f"make token: {error}", file=sys.stderr)
        return 2
    sub = args.sub or DEFAULT_SUBS[args.role]
    print(issue_token(signing_secret(settings), sub, admin=args.role == "admin", ttl_seconds=args.ttl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
