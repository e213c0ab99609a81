"""Our Stripe-Signature check agrees with the official SDK's, case by case, on headers the SDK signs."""

import time

import pytest
import stripe

from payments.adapters.stripe.webhooks import SignatureInvalid, verify_signature

SECRET = "whsec_current"
PREVIOUS = "whsec_previous"
BODY = '{\n  "id": "evt_1",\n  "object": "event",\n  "note": "caf\u00e9 \u2603"\n}'


def sign(payload: str = BODY, secret: str = SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=timestamp or int(time.time())
    )


def cases() -> dict[str, tuple[str, str | None]]:
    """Signed at call time: the tolerance is measured against the clock when the test runs."""
    now = int(time.time())
    return {
        "valid": (BODY, sign(timestamp=now)),
        "signed by the previous secret": (BODY, sign(secret=PREVIOUS, timestamp=now)),
        "signed by an unknown secret": (BODY, sign(secret="whsec_other", timestamp=now)),
        "tampered body": (BODY.replace("evt_1", "evt_2"), sign(timestamp=now)),
        "older than the tolerance": (BODY, sign(timestamp=now - 301)),
        "just inside the tolerance": (BODY, sign(timestamp=now - 290)),
        "missing header": (BODY, None),
        "empty header": (BODY, ""),
        "garbage header": (BODY, "not a signature"),
        "no timestamp": (BODY, sign(timestamp=now).split(",", 1)[1]),
        "non-numeric timestamp": (BODY, "t=abc," + sign(timestamp=now).split(",", 1)[1]),
        "only an unknown scheme": (BODY, sign(timestamp=now).replace("v1=", "v0=")),
        "one valid among several": (
            BODY,
            sign(secret="whsec_other", timestamp=now) + "," + sign(timestamp=now).split(",", 1)[1],
        ),
        "signature of another timestamp": (BODY, f"t={now - 1}," + sign(timestamp=now).split(",", 1)[1]),
    }


def sdk_accepts(payload: str, header: str | None, secrets: list[str]) -> bool:
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=300)
        except stripe.SignatureVerificationError:
            continue
        return True
    return False


def ours_accept(payload: str, header: str | None, secrets: list[str]) -> bool:
    try:
        verify_signature(payload.encode(), header, secrets, tolerance=300)
    except SignatureInvalid:
        return False
    return True


@pytest.mark.parametrize("case", cases())
def test_agrees_with_the_sdk(case):
    payload, header = cases()[case]
    secrets = [SECRET, PREVIOUS]
    assert ours_accept(payload, header, secrets) == sdk_accepts(payload, header, secrets)


def test_the_expected_cases_pass():
    passing = {
        case
        for case, (payload, header) in cases().items()
        if ours_accept(payload, header, [SECRET, PREVIOUS])
    }
    assert passing == {
        "valid",
        "signed by the previous secret",
        "just inside the tolerance",
        "one valid among several",
    }


def test_previous_secret_only_while_configured():
    assert not ours_accept(BODY, sign(secret=PREVIOUS), [SECRET])


def test_the_body_is_verified_byte_for_byte():
    header = sign()
    raw = BODY.encode()
    verify_signature(raw, header, [SECRET], tolerance=300)
    with pytest.raises(SignatureInvalid):
        verify_signature(raw + b"\n", header, [SECRET], tolerance=300)
