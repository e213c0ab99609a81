"""The Idempotency-Key header's checks, and the resource an idempotency record is bound to."""

from __future__ import annotations

import pytest

from payments.domain.errors import IdempotencyKeyInvalid, IdempotencyKeyMissing
from payments.http.api import resource_path
from payments.http.idempotency import MAX_KEY_LENGTH, require_key


@pytest.mark.parametrize("key", [None, "", "   "])
def test_post_requires_a_key(key):
    with pytest.raises(IdempotencyKeyMissing) as error:
        require_key(key, method="POST")
    assert (error.value.status, error.value.code) == (400, "idempotency_key_missing")
    assert "POST" in error.value.detail


@pytest.mark.parametrize("key", ["", " ", "\t"])
def test_a_blank_key_on_delete_says_it_is_optional_there(key):
    with pytest.raises(IdempotencyKeyInvalid) as error:
        require_key(key, method="DELETE")
    assert (error.value.status, error.value.code) == (400, "idempotency_key_invalid")
    assert "DELETE" in error.value.detail
    assert "POST" not in error.value.detail
    assert "leave the header out" in error.value.detail


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_keys_are_at_most_255_characters(method):
    assert require_key("k" * MAX_KEY_LENGTH, method=method) == "k" * MAX_KEY_LENGTH
    with pytest.raises(IdempotencyKeyInvalid) as error:
        require_key("k" * (MAX_KEY_LENGTH + 1), method=method)
    assert str(MAX_KEY_LENGTH) in error.value.detail


def test_the_resource_is_the_route_with_its_parameters_whatever_the_base_path():
    event = {
        "resource": "/payments/{payment_id}/capture",
        "path": "/v1/payments/pay_1/capture",
        "pathParameters": {"payment_id": "pay_1"},
    }
    assert resource_path(event) == "/payments/pay_1/capture"
    assert resource_path({**event, "path": "/payments/pay_1/capture"}) == "/payments/pay_1/capture"
    assert resource_path({**event, "pathParameters": {"payment_id": "pay_2"}}) == "/payments/pay_2/capture"
    assert resource_path({"resource": "/payments", "pathParameters": None}) == "/payments"
    assert resource_path({"resource": "/files/{proxy+}", "pathParameters": {"proxy": "a/b"}}) == "/files/a/b"
    # Without a route template: the path below the stage.
    assert resource_path({"path": "/v1/payment-methods/pm_1"}) == "/payment-methods/pm_1"
    assert resource_path({"path": "/payment-methods/pm_1"}) == "/payment-methods/pm_1"
