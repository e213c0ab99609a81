"""Order tokens: compact JWS the Order Service signs, verified with joserfc against the Order Service's
public keys in Secrets Manager (docs/risk.md, Amounts from the order).

The secret (catalog ORDER_TOKEN_KEYS) is JSON: {"current": <public JWK>, "previous": <public JWK>},
each JWK with its `kid`; "previous" is kept only while the Order Service rolls its key. A token must
name one of these keys by `kid`, be signed with an allowed algorithm (ES256, or EdDSA over Ed25519; HS*
and `none` never), come from the expected issuer and be within its times (exp required; nbf and iat
honoured when present).
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from collections.abc import Callable
from typing import Any

from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    JoseError,
    SecurityWarning,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import ECKey, OKPKey, import_key
from joserfc.jws import JWSRegistry

from payments.domain.errors import OrderTokenRejected
from payments.domain.order import MAX_TOKEN_LENGTH, OrderTerms, terms_from_claims

# "Ed25519" is RFC 9864's name for what "EdDSA" means with an Ed25519 key (the only OKP curve taken).
ALGORITHMS = ("ES256", "EdDSA", "Ed25519")
# The key types each key slot may hold, and their one curve.
KEY_CURVES = {"EC": "P-256", "OKP": "Ed25519"}
SLOTS = ("current", "previous")
HEADER_MEMBERS = frozenset({"alg", "kid", "typ"})
LEEWAY_SECONDS = 30  # clock skew between the Order Service and us
_REGISTRY = JWSRegistry(algorithms=ALGORITHMS)


class JoseOrderTokens:
    def __init__(self, keys_secret: Callable[[], str], issuer: str) -> None:
        self._keys_secret = keys_secret  # the secret's JSON, as Secrets Manager holds it (cached there)
        self._issuer = issuer

    def verify(self, token: str) -> OrderTerms:
        keys = _keys(self._keys_secret())
        if len(token) > MAX_TOKEN_LENGTH:
            raise _invalid("the order token is too long")
        try:
            with warnings.catch_warnings():
                # joserfc warns that the name "EdDSA" is deprecated (RFC 9864); the algorithm is not.
                warnings.simplefilter("ignore", SecurityWarning)
                decoded = jwt.decode(
                    token,
                    lambda signed: _key_for(signed.headers(), keys),
                    registry=_REGISTRY,
                    decoder_cls=_StrictJSON,
                )
        except OrderTokenRejected:
            raise
        except UnsupportedAlgorithmError:
            raise _invalid(f"the order token must be signed with one of {', '.join(ALGORITHMS)}") from None
        except BadSignatureError:
            raise _invalid("the order token's signature does not verify") from None
        except (JoseError, ValueError):
            raise _invalid("the order token is not a compact JWS with a JSON object of claims") from None
        claims = decoded.claims
        if claims.get("iss") != self._issuer:
            raise OrderTokenRejected(
                "order_token_issuer_unknown", "the order token is not from the Order Service"
            )
        _check_times(claims)
        return terms_from_claims(claims)


def _key_for(header: dict[str, Any], keys: dict[str, ECKey | OKPKey]) -> ECKey | OKPKey:
    """The key the token names: its `kid` must be one of the secret's (no guessing between keys)."""
    unknown = set(header) - HEADER_MEMBERS
    if unknown:
        raise _invalid(f"the order token's header may hold only {', '.join(sorted(HEADER_MEMBERS))}")
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keys:
        raise _invalid("the order token names no key the Order Service signs with (kid)")
    return keys[kid]


def _check_times(claims: dict[str, Any]) -> None:
    for name in ("exp", "nbf", "iat"):
        if name in claims and not _numeric_date(claims[name]):
            raise _invalid(f"the order token's claim {name} must be a NumericDate (seconds since 1970)")
    registry = jwt.JWTClaimsRegistry(leeway=LEEWAY_SECONDS, exp={"essential": True})
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise OrderTokenRejected("order_token_expired", "the order token has expired") from None
    except ClaimError as error:
        if error.claim in ("nbf", "iat"):  # their types are checked above: a time still to come
            raise OrderTokenRejected(
                "order_token_not_yet_valid", "the order token is not valid yet"
            ) from None
        raise _invalid(f"the order token's claim {error.claim} is missing or invalid") from None


def _numeric_date(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


@functools.lru_cache(maxsize=4)
def _keys(secret: str) -> dict[str, ECKey | OKPKey]:
    """The secret's public keys by kid (parsed once per value: a rotated secret is parsed anew). A secret
    ops filled in wrongly is a 500 that names it, not a token problem."""
    try:
        slots = json.loads(secret)
    except ValueError:
        raise RuntimeError("the order token keys secret is not JSON") from None
    if not isinstance(slots, dict) or not isinstance(slots.get("current"), dict) or set(slots) - set(SLOTS):
        raise RuntimeError('the order token keys secret must be {"current": <JWK>, "previous": <JWK>}')
    keys: dict[str, ECKey | OKPKey] = {}
    for slot in SLOTS:
        jwk = slots.get(slot)
        if jwk is None:
            continue
        key = _public_key(slot, jwk)
        if key.kid in keys:
            raise RuntimeError("the order token keys secret holds two keys with one kid")
        keys[str(key.kid)] = key
    return keys


def _public_key(slot: str, jwk: Any) -> ECKey | OKPKey:
    if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str) or not jwk["kid"]:
        raise RuntimeError(f"the order token key {slot!r} must be a JWK with a kid")
    kty = jwk.get("kty")
    if kty not in KEY_CURVES or jwk.get("crv") != KEY_CURVES[kty]:
        raise RuntimeError(f"the order token key {slot!r} must be an EC P-256 or OKP Ed25519 key")
    if "d" in jwk:
        raise RuntimeError(f"the order token key {slot!r} holds a private key: keep only the public part")
    key = import_key(jwk)
    assert isinstance(key, (ECKey, OKPKey))
    return key


def _invalid(detail: str) -> OrderTokenRejected:
    return OrderTokenRejected("order_token_invalid", detail)


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError("a claim is given twice")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _StrictJSON(json.JSONDecoder):
    """Claims as JSON means them: no member twice, no NaN or Infinity."""

    def __init__(self, **options: Any) -> None:
        super().__init__(object_pairs_hook=_unique_object, parse_constant=_no_constant, **options)
