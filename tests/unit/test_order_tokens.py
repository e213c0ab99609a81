"""The order token adapter (payments/adapters/order_tokens.py) against every token it must refuse, each
with its code, and the key rotation it must follow. Tokens are made with joserfc, as the Order Service
makes them, or by hand where no JOSE library would make them (alg none, broken segments)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc.jwk import ECKey, OKPKey

from infra.local.resources import local_order_token_keys
from infra.local.settings import ORDER_TOKEN_PRIVATE_JWK
from infra.local.tokens import sign_order_claims
from payments.adapters.order_tokens import JoseOrderTokens
from payments.domain.errors import OrderTokenRejected
from payments.domain.money import Money

ISSUER = "orders"
LOCAL_PUBLIC = local_order_token_keys()["current"]


def new_key(kid: str, kind: str = "OKP") -> dict[str, Any]:
    key = OKPKey.generate_key("Ed25519") if kind == "OKP" else ECKey.generate_key("P-256")
    return {**key.as_dict(private=True), "kid": kid}


def public(jwk: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in jwk.items() if name != "d"}


def verifier(**slots: dict[str, Any]) -> JoseOrderTokens:
    secret = json.dumps(slots or {"current": LOCAL_PUBLIC})
    return JoseOrderTokens(lambda: secret, ISSUER)


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    values = {
        "iss": ISSUER,
        "sub": "cus_alice",
        "order_id": "order-1",
        "amount": 2599,
        "currency": "usd",
        "iat": now,
        "exp": now + 600,
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def compact(header: dict[str, Any], payload: str, signature: bytes = b"") -> str:
    """A token as someone without a JOSE library would forge it."""
    return f"{b64(json.dumps(header))}.{b64(payload)}.{b64(signature)}"


def rejected(token: str, tokens: JoseOrderTokens | None = None) -> OrderTokenRejected:
    with pytest.raises(OrderTokenRejected) as caught:
        (tokens or verifier()).verify(token)
    error = caught.value
    assert error.status == 422
    return error


def test_a_token_signed_with_the_current_key_gives_the_order_terms():
    terms = verifier().verify(sign_order_claims(claims(currency="EUR", amount=1250)))
    assert (terms.order_id, terms.customer_id, terms.money) == ("order-1", "cus_alice", Money(1250, "eur"))


def test_es256_is_accepted_too():
    key = new_key("es-1", kind="EC")
    token = sign_order_claims(claims(), key=key, algorithm="ES256")
    assert verifier(current=public(key)).verify(token).money == Money(2599, "usd")


def test_rfc9864_name_of_eddsa_is_accepted():
    assert verifier().verify(sign_order_claims(claims(), algorithm="Ed25519")).order_id == "order-1"


# ----------------------------------------------------------------------------- signatures and keys


def test_unsigned_alg_none_is_refused():
    token = compact({"alg": "none", "kid": LOCAL_PUBLIC["kid"]}, json.dumps(claims()))
    error = rejected(token)
    assert error.code == "order_token_invalid"
    assert error.extra["param"] == "order_token"
    assert rejected(token.rsplit(".", 1)[0] + ".").code == "order_token_invalid"


def test_hs256_with_the_public_key_as_its_secret_is_refused():
    """The classic confusion: an HMAC "signed" with the public key the verifier holds."""
    import hashlib
    import hmac

    for secret in (json.dumps(LOCAL_PUBLIC).encode(), base64.urlsafe_b64decode(LOCAL_PUBLIC["x"] + "=")):
        header = b64(json.dumps({"alg": "HS256", "kid": LOCAL_PUBLIC["kid"]}))
        payload = b64(json.dumps(claims()))
        mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        error = rejected(f"{header}.{payload}.{b64(mac)}")
        assert error.code == "order_token_invalid"
        assert "ES256" in error.detail


def test_a_token_signed_with_another_key_under_our_kid_is_refused():
    impostor = new_key(LOCAL_PUBLIC["kid"])
    error = rejected(sign_order_claims(claims(), key=impostor))
    assert (error.code, error.detail) == (
        "order_token_invalid",
        "the order token's signature does not verify",
    )


def test_a_tampered_payload_is_refused():
    header, _, signature = sign_order_claims(claims()).split(".")
    forged = f"{header}.{b64(json.dumps(claims(amount=1)))}.{signature}"
    assert rejected(forged).code == "order_token_invalid"


def test_an_unknown_or_missing_kid_is_refused():
    stranger = new_key("someone-else")
    assert "kid" in rejected(sign_order_claims(claims(), key=stranger)).detail
    _, payload, signature = sign_order_claims(claims()).split(".")
    without_kid = {"typ": "JWT", "alg": "EdDSA"}
    assert "kid" in rejected(f"{b64(json.dumps(without_kid))}.{payload}.{signature}").detail
    for kid in (None, 1, ["local-order-key-1"]):
        odd = f"{b64(json.dumps({'alg': 'EdDSA', 'kid': kid}))}.{payload}.{signature}"
        assert rejected(odd).code == "order_token_invalid"


def test_an_es256_header_over_an_ed25519_key_is_refused():
    _, payload, signature = sign_order_claims(claims()).split(".")
    relabeled = b64(json.dumps({"alg": "ES256", "kid": LOCAL_PUBLIC["kid"]}))
    assert rejected(f"{relabeled}.{payload}.{signature}").code == "order_token_invalid"


def test_header_members_beyond_alg_kid_typ_are_refused():
    for extra in ({"jwk": LOCAL_PUBLIC}, {"crit": ["b64"], "b64": False}, {"jku": "https://x.example"}):
        assert rejected(sign_order_claims(claims(), header=extra)).code == "order_token_invalid"


# ----------------------------------------------------------------------------- rotation


def test_rotation_previous_key_accepted_while_kept_then_refused():
    old, new = new_key("orders-2026-01"), new_key("orders-2026-02")
    by_old, by_new = sign_order_claims(claims(), key=old), sign_order_claims(claims(), key=new)
    before = verifier(current=public(old))
    during = verifier(current=public(new), previous=public(old))
    after = verifier(current=public(new))
    assert before.verify(by_old).order_id == "order-1"
    assert rejected(by_new, before).code == "order_token_invalid"
    assert during.verify(by_old).order_id == during.verify(by_new).order_id == "order-1"
    assert after.verify(by_new).order_id == "order-1"
    assert "kid" in rejected(by_old, after).detail  # the removed key signs nothing any more


def test_a_third_key_is_never_taken():
    keys = [new_key(f"k{n}") for n in range(3)]
    tokens = verifier(current=public(keys[0]), previous=public(keys[1]))
    assert rejected(sign_order_claims(claims(), key=keys[2]), tokens).code == "order_token_invalid"
    secret = json.dumps({"current": public(keys[0]), "previous": public(keys[1]), "older": public(keys[2])})
    with pytest.raises(RuntimeError, match="current"):
        JoseOrderTokens(lambda: secret, ISSUER).verify(sign_order_claims(claims(), key=keys[2]))


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("not json", "not JSON"),
        (json.dumps({"previous": LOCAL_PUBLIC}), "current"),
        (json.dumps({"current": "x"}), "current"),
        (json.dumps({"current": {**LOCAL_PUBLIC, "kid": ""}}), "kid"),
        (json.dumps({"current": ORDER_TOKEN_PRIVATE_JWK}), "private"),
        (json.dumps({"current": {"kty": "oct", "k": "c2VjcmV0", "kid": "h"}}), "P-256 or OKP Ed25519"),
        (json.dumps({"current": LOCAL_PUBLIC, "previous": LOCAL_PUBLIC}), "one kid"),
    ],
)
def test_a_secret_ops_filled_in_wrongly_is_an_error_that_names_it(secret, message):
    with pytest.raises(RuntimeError, match=message):
        JoseOrderTokens(lambda: secret, ISSUER).verify(sign_order_claims(claims()))


# ----------------------------------------------------------------------------- times and issuer


def test_an_expired_token_is_refused():
    now = int(time.time())
    assert rejected(sign_order_claims(claims(iat=now - 7200, exp=now - 3600))).code == "order_token_expired"


def test_a_token_not_yet_valid_is_refused():
    now = int(time.time())
    soon = sign_order_claims(claims(nbf=now + 3600, exp=now + 7200))
    assert rejected(soon).code == "order_token_not_yet_valid"
    issued_later = sign_order_claims(claims(iat=now + 3600, exp=now + 7200))
    assert rejected(issued_later).code == "order_token_not_yet_valid"


def test_times_within_the_leeway_are_accepted():
    now = int(time.time())
    assert verifier().verify(sign_order_claims(claims(nbf=now + 5, iat=now + 5))).order_id == "order-1"


def test_a_token_without_exp_is_refused():
    assert rejected(sign_order_claims(claims(exp=None))).code == "order_token_invalid"


@pytest.mark.parametrize("exp", ["soon", True, None, [1], 1e400])
def test_time_claims_of_the_wrong_kind_are_refused(exp):
    token = sign_order_claims({**claims(), "exp": exp, "nbf": 0})
    assert rejected(token).code == "order_token_invalid"


def test_an_unknown_or_missing_issuer_is_refused():
    for iss in ("someone-else", "Orders", "orders ", ["orders"], None):
        error = rejected(sign_order_claims({**claims(), "iss": iss}))
        assert error.code == "order_token_issuer_unknown", iss
    assert rejected(sign_order_claims(claims(iss=None))).code == "order_token_issuer_unknown"


# ----------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "a.b.c.d.e",  # a JWE's five parts
        "....",
        "!!!.###.$$$",
        "eyJhbGciOiJFZERTQSJ9.@@@.abc",
    ],
)
def test_not_a_compact_jws_is_refused(token):
    assert rejected(token).code == "order_token_invalid"


def test_bad_base64_and_bad_json_are_refused():
    token = sign_order_claims(claims())
    header, payload, signature = token.split(".")
    for broken in (
        f"{header}.{payload[:-1]}*.{signature}",
        f"{header}.{payload}.{signature[:-2]}!!",
        f"{b64('{not json')}.{payload}.{signature}",
        compact({"alg": "EdDSA", "kid": "local-order-key-1"}, "{not json"),
        compact({"alg": "EdDSA", "kid": "local-order-key-1"}, "[1, 2]"),
    ):
        assert rejected(broken).code == "order_token_invalid"


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_claims_json_that_would_read_two_ways_is_refused():
    """A member given twice, or NaN: signed, yet not one JSON object every reader reads alike."""
    from joserfc import jws
    from joserfc.jwk import import_key

    key = import_key(ORDER_TOKEN_PRIVATE_JWK)
    header = {"alg": "EdDSA", "kid": LOCAL_PUBLIC["kid"]}
    body = json.dumps(claims())
    for payload in (body[:-1] + ', "amount": 1}', body[:-1] + ', "exp": NaN}'):
        token = jws.serialize_compact(header, payload, key, algorithms=["EdDSA"])
        assert rejected(token).code == "order_token_invalid"


@pytest.mark.parametrize(
    ("changes", "word"),
    [
        ({"amount": -2599}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": 25.99}, "amount"),
        ({"amount": 2599.0}, "amount"),
        ({"amount": "2599"}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 10**12}, "amount"),
        ({"amount": 100_000_000}, "amount"),
        ({"amount": 10}, "amount"),  # below Stripe's minimum for usd
        ({"amount": 1005, "currency": "kwd"}, "amount"),  # three-decimal: multiples of 10
        ({"amount": None}, "amount"),
        ({"currency": "usdollar"}, "currency"),
        ({"currency": "xxx"}, "currency"),
        ({"currency": 840}, "currency"),
        ({"currency": None}, "currency"),
        ({"order_id": "order 1"}, "order_id"),
        ({"order_id": "o" * 65}, "order_id"),
        ({"order_id": 1001}, "order_id"),
        ({"order_id": None}, "order_id"),
        ({"sub": ""}, "sub"),
        ({"sub": 42}, "sub"),
        ({"sub": None}, "sub"),
    ],
)
def test_claims_of_the_wrong_kind_are_refused(changes, word):
    error = rejected(sign_order_claims(claims(**changes)))  # None: the claim left out
    assert error.code == "order_token_invalid"
    assert word in error.detail


def test_a_huge_number_is_refused_not_crashed_on():
    token = compact(
        {"alg": "EdDSA", "kid": "local-order-key-1"},
        json.dumps(claims())[:-1] + ', "x": 1' + "0" * 5000 + "}",
    )
    assert rejected(token).code == "order_token_invalid"


def test_a_token_too_long_is_refused_before_any_parsing():
    token = sign_order_claims(claims(padding="x" * 5000))
    assert "too long" in rejected(token).detail


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=200),
        st.builds(
            lambda header, payload, signature: (
                f"{b64(json.dumps(header))}.{b64(json.dumps(payload))}.{b64(signature)}"
            ),
            st.one_of(JSON, st.fixed_dictionaries({"alg": JSON, "kid": JSON})),
            st.one_of(JSON, st.just(claims())),
            st.binary(max_size=80),
        ),
    )
)
def test_garbage_is_refused_never_crashed_on(token):
    with pytest.raises(OrderTokenRejected) as caught:
        verifier().verify(token)
    assert caught.value.code == "order_token_invalid"  # no signature of ours: nothing gets further
