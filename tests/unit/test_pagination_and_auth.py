import pytest

from payments.domain.errors import Forbidden, InvalidCursor, Unauthenticated
from payments.http.auth import caller_from_event
from payments.http.pagination import binding_for, decode_cursor, encode_cursor

KEY = b"k" * 32


def test_cursor_round_trip():
    binding = binding_for("alice", limit=20)
    cursor = encode_cursor({"pk": "PAYMENT#1"}, KEY, binding)
    assert cursor is not None
    assert decode_cursor(cursor, KEY, binding) == {"pk": "PAYMENT#1"}
    assert encode_cursor(None, KEY, binding) is None


@pytest.mark.parametrize(
    "mutate", [lambda c: c + "x", lambda c: "A" + c[1:], lambda c: "garbage", lambda c: "."]
)
def test_forged_cursor_is_refused(mutate):
    binding = binding_for("alice", limit=20)
    cursor = encode_cursor({"pk": "PAYMENT#1"}, KEY, binding)
    with pytest.raises(InvalidCursor):
        decode_cursor(mutate(cursor), KEY, binding)


@pytest.mark.parametrize(
    "cursor",
    [
        "é",
        "é.abc",
        "abc.é",
        "abc.\u00ff\u00ff",
        "\u4e2d.\u6587",
        "abc.\ud800",
        "\ud800.abc",
        "a.b.c",
        " . ",
        "\x00.\x00",
    ],
)
def test_a_non_ascii_or_malformed_cursor_is_invalid_cursor(cursor):
    binding = binding_for("alice", limit=20)
    with pytest.raises(InvalidCursor) as error:
        decode_cursor(cursor, KEY, binding)
    assert error.value.status == 400
    assert error.value.extra == {"param": "cursor"}


def test_a_valid_cursor_with_non_ascii_appended_is_invalid_cursor():
    binding = binding_for("alice", limit=20)
    cursor = encode_cursor({"pk": "PAYMENT#1"}, KEY, binding)
    assert cursor is not None
    for mutated in (cursor + "é", "é" + cursor, cursor.replace(".", ".é")):
        with pytest.raises(InvalidCursor):
            decode_cursor(mutated, KEY, binding)


def test_foreign_cursor_and_other_query_are_refused():
    cursor = encode_cursor({"pk": "x"}, KEY, binding_for("alice", limit=20))
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, KEY, binding_for("bob", limit=20))
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, KEY, binding_for("alice", limit=50))


def claims_event(**claims):
    return {"requestContext": {"authorizer": {"claims": claims}}}


@pytest.mark.parametrize(
    "groups",
    [
        "payments-admin",  # one group: its name as is
        "[payments-admin]",  # API Gateway's "[a b]" flattening
        "[payments-admin other]",
        "[other payments-admin]",
        "[x,y payments-admin]",
        ["payments-admin"],  # a list where the claim is passed as one
        ["other", "payments-admin"],
        ("payments-admin",),
    ],
)
def test_admin_group_formats(groups):
    assert caller_from_event(claims_event(sub="u1", **{"cognito:groups": groups})).is_admin


@pytest.mark.parametrize(
    "groups",
    [
        "x,payments-admin",  # a group named so, or two groups: "a,b" cannot tell, so it grants nothing
        "other,payments-admin",
        "payments-admin,other",
        "[x,payments-admin]",  # one group, named "x,payments-admin"
        "[payments-admin",  # one group, named "[payments-admin"
        "payments-admin]",
        "[[payments-admin]",
        "[payments-admin]]",
        "[[payments-admin other]",
        " payments-admin",
        "payments-admin ",
        "Payments-Admin",
        "payments-admins",
        "payments_admin",
        "",
        "[]",
        ["x,payments-admin"],
        ["[payments-admin]"],
        [["payments-admin"]],
        [None, 1],
        {"payments-admin": True},
        1,
        None,
    ],
)
def test_only_the_exact_group_name_grants_admin(groups):
    assert not caller_from_event(claims_event(sub="u1", **{"cognito:groups": groups})).is_admin


def test_customer_cannot_act_for_another():
    caller = caller_from_event(claims_event(sub="alice"))
    assert not caller.is_admin
    assert caller.acting_for(None) is None
    assert caller.acting_for("alice") == "alice"
    with pytest.raises(Forbidden):
        caller.acting_for("bob")


def test_missing_claims_is_unauthenticated():
    with pytest.raises(Unauthenticated):
        caller_from_event({"requestContext": {}})
