"""Local stand-ins for Cognito and for the Order Service's order tokens.

Cognito: HS256 access tokens signed with LOCAL_JWT_SECRET, verified by the local gateway. Every
authorized method of the deployed API takes access tokens holding one of the catalog's API_SCOPES
(docs/architecture.md, Trust model), and so does the local gateway: people's tokens (customers, admins
in `cognito:groups`) carry USER_SCOPE like those of a Cognito sign-in, a service's carries SERVICE_SCOPE
like those of the client-credentials flow (its `sub` is the app client's id). An ID token, or an access
token without one of those scopes, is refused as API Gateway refuses it. `authorizer_claims` flattens the
claims the way a REST API's Cognito authorizer hands them to a function: every value a string, `scope`
space-separated.

Order tokens: compact JWS signed with the local Order Service key (EdDSA over Ed25519,
infra/local/settings.py), whose public half the local Secrets Manager holds.

CLI (prints one token and nothing else):
    make -s token ROLE=customer|admin|service SUB=<id>
    make -s order-token ORDER=<id> AMOUNT=<minor units> CURRENCY=<iso> SUB=<customer>
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any

import jwt

from infra import catalog
from infra.local.settings import ORDER_TOKEN_PRIVATE_JWK, ConfigError, LocalSettings, StackState

ISSUER = "https://cognito-idp.local/local_pool"
WEB_CLIENT_ID = "local-web-client"
DEFAULT_TTL_SECONDS = 12 * 3600
DEFAULT_SUBS = {"customer": "alice", "admin": "backoffice", "service": "local-service-client"}
ORDER_TOKEN_ALGORITHM = "EdDSA"  # noqa: S105 - an algorithm name
_BEARER = "bearer "


class TokenRejected(Exception):
    """Why the authorizer refused the request, in API Gateway's own words."""


def identity_claims(sub: str, *, admin: bool = False, service: bool = False) -> dict[str, Any]:
    """What a Cognito access token says of its caller (no times): a person's from sign-in, or a
    service's from the client-credentials flow (the client's id is its `sub`, it has no user)."""
    if service:
        return {
            "sub": sub,
            "client_id": sub,
            "token_use": "access",
            "scope": catalog.SERVICE_SCOPE,
            "iss": ISSUER,
        }
    claims: dict[str, Any] = {
        "sub": sub,
        "username": sub,
        "client_id": WEB_CLIENT_ID,
        "token_use": "access",
        "scope": catalog.USER_SCOPE,
        "iss": ISSUER,
    }
    if admin:
        claims["cognito:groups"] = [catalog.ADMIN_GROUP]
    return claims


def issue_token(
    secret: str,
    sub: str,
    *,
    admin: bool = False,
    service: bool = False,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: float | None = None,
) -> str:
    issued = int(time.time() if now is None else now)
    claims = identity_claims(sub, admin=admin, service=service)
    claims.update(auth_time=issued, iat=issued, exp=issued + ttl_seconds)
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
            token, secret, algorithms=["HS256"], issuer=ISSUER, options={"require": ["exp", "iat", "sub"]}
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejected("The incoming token has expired") from None
    except jwt.InvalidTokenError:
        raise TokenRejected("Unauthorized") from None
    scopes = claims.get("scope")
    if claims.get("token_use") != "access" or not isinstance(scopes, str):
        raise TokenRejected("Unauthorized")  # methods with scopes take access tokens only
    if not set(scopes.split()) & set(catalog.API_SCOPES):
        raise TokenRejected("Unauthorized")
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


# --------------------------------------------------------------------------- order tokens


def issue_order_token(
    order_id: str,
    amount: int,
    currency: str,
    sub: str,
    *,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: float | None = None,
) -> str:
    """An order token as the Order Service issues it, signed with the local key."""
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": catalog.ORDER_TOKEN_ISSUER,
        "sub": sub,
        "order_id": order_id,
        "amount": amount,
        "currency": currency,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    return sign_order_claims(claims)


def sign_order_claims(
    claims: dict[str, Any],
    *,
    key: dict[str, str] = ORDER_TOKEN_PRIVATE_JWK,
    algorithm: str = ORDER_TOKEN_ALGORITHM,
    header: dict[str, Any] | None = None,
) -> str:
    """Any claims signed as an order token (tests sign wrong ones too): the header names the key's kid."""
    from joserfc import jwt as jose_jwt
    from joserfc.errors import SecurityWarning
    from joserfc.jwk import import_key

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # joserfc: the name EdDSA is deprecated (RFC 9864)
        return jose_jwt.encode(
            {"alg": algorithm, "kid": key["kid"], **(header or {})},
            claims,
            import_key(key),  # type: ignore[arg-type]
            algorithms=[algorithm],
        )


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make token",
        description="Print a token the local gateway accepts, or (--order) an order token the local stack "
        "accepts.",
    )
    parser.add_argument("--role", choices=sorted(DEFAULT_SUBS), default="customer")
    parser.add_argument(
        "--sub", help="the caller's id (default: alice, backoffice, local-service-client by role)"
    )
    parser.add_argument("--ttl", type=int, default=DEFAULT_TTL_SECONDS, help="seconds until it expires")
    parser.add_argument("--order", help="an order token for this order id (with --amount and --currency)")
    parser.add_argument("--amount", type=int, help="the order's amount in the currency's minor unit")
    parser.add_argument("--currency", help="the order's ISO 4217 currency")
    args = parser.parse_args(argv)
    sub = args.sub or DEFAULT_SUBS[args.role]
    if args.order is not None:
        if not args.order or args.amount is None or not args.currency:
            parser.error(
                "an order token needs --order, --amount and --currency "
                "(make order-token ORDER= AMOUNT= CURRENCY=)"
            )
        print(issue_order_token(args.order, args.amount, args.currency.lower(), sub, ttl_seconds=args.ttl))
        return 0
    try:
        settings = LocalSettings.from_env()
    except ConfigError as error:
        print(f"make token: {error}", file=sys.stderr)
        return 2
    role = args.role
    print(
        issue_token(
            signing_secret(settings),
            sub,
            admin=role == "admin",
            service=role == "service",
            ttl_seconds=args.ttl,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
