"""Properties of the card-number guard: every Luhn-valid number in a card network's range is refused
whatever its format (separators, Unicode digit forms, invisible characters, data before or after it,
JSON escapes, nesting, keys or values), and ordinary payment bodies pass.

Hypothesis runs derandomized with no example database, so each run checks the same examples whatever
the machine, the clock or the order of the tests."""

from __future__ import annotations

import base64
import json
import string
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.domain.errors import CardDataNotAccepted
from payments.http.guards import contains_card_number, luhn_valid, parse_json_body

DETERMINISTIC = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# The guard's card network ranges (guards.py): Visa 4, Mastercard 22-27 and 5, Amex/Diners/JCB 3,
# Discover/UnionPay/Maestro 6, UnionPay 81.
PREFIXES = ["3", "4", "5", "6", "22", "23", "24", "25", "26", "27", "81", "34", "37", "6011", "62", "2221"]


def check_digit(partial: str) -> str:
    return next(str(d) for d in range(10) if luhn_valid(partial + str(d)))


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(PREFIXES))
    length = draw(st.integers(13, 19))
    body = draw(
        st.text(alphabet=string.digits, min_size=length - len(prefix) - 1, max_size=length - len(prefix) - 1)
    )
    number = prefix + body
    return number + check_digit(number)


# Each decimal digit 0-9 in other scripts and compatibility forms.
DIGIT_FORMS = [
    str,
    lambda d: chr(0xFF10 + d),  # full-width
    lambda d: chr(0x0660 + d),  # Arabic-Indic
    lambda d: chr(0x06F0 + d),  # extended Arabic-Indic
    lambda d: chr(0x0966 + d),  # Devanagari
    lambda d: chr(0x09E6 + d),  # Bengali
    lambda d: chr(0x0E50 + d),  # Thai
    lambda d: chr(0x1D7CE + d),  # mathematical bold
    lambda d: chr(0x1D7F6 + d),  # mathematical monospace
    lambda d: "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"[d],  # superscript
    lambda d: "\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089"[d],  # subscript
]

# Visible separators (neither letters nor digits, and one character each, also after NFKC: not "…",
# which NFKC makes three dots) and whitespace of every kind.
PUNCTUATION = [
    *" -./_:,;*+|()#~'\"!?=&%$@<>[]{}\\^`",
    "\u2010",
    "\u2011",
    "\u2012",
    "\u2013",
    "\u2014",
    "\u2212",
    "\u00b7",
    "\u2022",
    "\u30fb",
    "\uff0d",
    "\uff0e",
    "\uff0f",
    "\u3001",
    "\u3002",
]
WHITESPACE = [
    " ",
    "\t",
    "\n",
    "\r",
    "\u00a0",
    "\u202f",
    "\u2007",
    "\u2009",
    "\u200a",
    "\u2002",
    "\u3000",
    "\u1680",
]
INVISIBLE = [
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u034f",
    "\u0301",
    "\u0332",
    "\ufe0f",
]


@st.composite
def separators(draw: st.DrawFn) -> str:
    """Up to 3 visible characters (a run of whitespace counts as one), with invisible ones anywhere."""
    units = draw(
        st.lists(
            st.one_of(
                st.sampled_from(PUNCTUATION),
                st.lists(st.sampled_from(WHITESPACE), min_size=1, max_size=6).map("".join),
            ),
            min_size=1,
            max_size=3,
        )
    )
    out = []
    for unit in units:
        out.append(draw(st.lists(st.sampled_from(INVISIBLE), max_size=3).map("".join)))
        out.append(unit)
    return "".join(out)


@st.composite
def formatted(draw: st.DrawFn, number: str) -> str:
    """The number written some way: per-digit forms, separators or invisible characters between
    digits (or nothing), and anything before and after it."""
    form = draw(st.sampled_from(DIGIT_FORMS))
    mixed = draw(st.booleans())
    out = []
    for index, char in enumerate(number):
        digit_form = draw(st.sampled_from(DIGIT_FORMS)) if mixed else form
        out.append(digit_form(int(char)))
        if index < len(number) - 1:
            gap = draw(st.sampled_from(["none", "none", "separator", "invisible"]))
            if gap == "separator":
                out.append(draw(separators()))
            elif gap == "invisible":
                out.append(draw(st.lists(st.sampled_from(INVISIBLE), min_size=1, max_size=5).map("".join)))
    before = draw(
        st.one_of(
            st.just(""),
            st.text(alphabet=string.ascii_letters + "äéßЖ中 ", max_size=20).map(lambda t: t + " "),
            st.integers(0, 10**6).map(lambda n: f"ref {n} "),
        )
    )
    after = draw(
        st.one_of(
            st.just(""),
            st.sampled_from([" 12/29", " 123", " exp 12/29 cvc 123", "1229", "123", "/12/29", " 0", "9999"]),
            st.text(max_size=30),
        )
    )
    return before + "".join(out) + after


def json_string(text: str, escape: Any) -> str:
    """A JSON string literal for `text`, each character escaped as \\uXXXX or not as `escape` says."""
    out = ['"']
    for char in text:
        raw = json.dumps(char, ensure_ascii=False)[1:-1]
        if escape(char):
            encoded = char.encode("utf-16-be")
            out.extend(f"\\u{encoded[i : i + 2].hex()}" for i in range(0, len(encoded), 2))
        else:
            out.append(raw)
    out.append('"')
    return "".join(out)


PLACEHOLDER = "\x00placeholder\x00"


@st.composite
def embedded(draw: st.DrawFn, literal: str, as_key: bool) -> str:
    """A JSON document holding `literal` (a JSON string or number literal) at some depth."""
    filler = st.recursive(
        st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(string.ascii_letters, max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(string.ascii_letters, max_size=5), inner, max_size=3)
        ),
        max_leaves=6,
    )
    depth = draw(st.integers(0, 20))
    node: Any = PLACEHOLDER
    for _ in range(depth):
        if draw(st.booleans()):
            node = [draw(filler), node] if draw(st.booleans()) else [node]
        else:
            node = {"a": draw(filler), "k": node} if draw(st.booleans()) else {"k": node}
    if as_key:
        node = {PLACEHOLDER: 1} if depth == 0 else {"wrap": node, PLACEHOLDER: 1}
    document = json.dumps(node, ensure_ascii=draw(st.booleans()))
    return document.replace(json.dumps(PLACEHOLDER), literal)


def body_event(document: str, b64: bool) -> dict[str, Any]:
    raw = document.encode("utf-8", "surrogatepass")
    if b64:
        return {"body": base64.b64encode(raw).decode(), "isBase64Encoded": True}
    return {"body": document, "isBase64Encoded": False}


def assert_refused(document: str, b64: bool, number: str) -> None:
    with pytest.raises(CardDataNotAccepted) as error:
        parse_json_body(body_event(document, b64))
    assert number[:6] not in error.value.detail
    assert not error.value.extra


@DETERMINISTIC
@given(number=card_numbers(), data=st.data())
def test_every_network_card_number_is_refused_in_any_text_format(number, data):
    text = data.draw(formatted(number))
    assert contains_card_number(text)


@DETERMINISTIC
@given(number=card_numbers(), data=st.data(), b64=st.booleans(), as_key=st.booleans())
def test_every_network_card_number_is_refused_inside_json_at_any_depth(number, data, b64, as_key):
    text = data.draw(formatted(number))
    escape_all = data.draw(st.sampled_from(["none", "all", "some"]))
    if escape_all == "some":
        mask = data.draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
        flags = iter(mask)
        literal = json_string(text, lambda _: next(flags))
    else:
        literal = json_string(text, lambda _: escape_all == "all")
    assert_refused(data.draw(embedded(literal, as_key)), b64, number)


@DETERMINISTIC
@given(number=card_numbers(), data=st.data(), b64=st.booleans())
def test_every_network_card_number_is_refused_as_a_json_number(number, data, b64):
    sign = data.draw(st.sampled_from(["", "-"]))
    tail = data.draw(st.sampled_from(["", ".0", ".5", "0", "123", "e0", "E+0", ".25e1"]))
    literal = sign + number + tail
    assert_refused(data.draw(embedded(literal, as_key=False)), b64, number)


# --------------------------------------------------------------------------- ordinary bodies pass

WORDS = st.sampled_from(["books", "order", "gift", "Käse", "for", "and", "ref", "x", "total", "USD", "né"])


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2099, 12, 31)))
    offset = draw(st.integers(-23 * 60 - 59, 23 * 60 + 59))
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset)))
    value = draw(st.sampled_from([moment, aware, moment.replace(tzinfo=UTC)]))
    spec = draw(st.sampled_from(["auto", "minutes", "seconds", "milliseconds", "microseconds"]))
    text = value.isoformat(sep=draw(st.sampled_from(["T", " "])), timespec=spec)
    return text.replace("+00:00", "Z") if draw(st.booleans()) else text


SHORT_NUMBERS = st.one_of(
    st.integers(0, 10**12 - 1).map(str),
    st.integers(0, 10**9).map(lambda n: f"{n / 100:,.2f}"),
    st.integers(0, 10**9).map(lambda n: f"{n / 100:.2f}"),
    st.integers(1, 9999).map(lambda n: f"{n} items"),
)
TOKENS = st.one_of(SHORT_NUMBERS, timestamps(), st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()))


@st.composite
def ordinary_text(draw: st.DrawFn) -> str:
    """Words with amounts, counts, timestamps and UUIDs between them (a word between any two)."""
    parts = []
    for _ in range(draw(st.integers(1, 5))):
        parts.append(draw(TOKENS))
        parts.append(draw(WORDS))
    return " ".join(parts)


@st.composite
def ordinary_bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": "order-" + draw(st.text(alphabet="0123456789abcdef", min_size=12, max_size=12)),
        "amount": draw(st.integers(50, 99_999_999)),
        "currency": draw(st.sampled_from(["usd", "EUR", "jpy", "kwd", "gbp"])),
        "payment_method_id": "pm_" + draw(st.text(alphabet=string.ascii_letters, min_size=1, max_size=24)),
    }
    if draw(st.booleans()):
        body["description"] = draw(ordinary_text())
    if draw(st.booleans()):
        keys = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=20)
        body["metadata"] = draw(st.dictionaries(keys, st.one_of(ordinary_text(), TOKENS), max_size=20))
    if draw(st.booleans()):
        body["capture"] = draw(st.sampled_from(["automatic", "manual"]))
    if draw(st.booleans()):
        ts = draw(st.integers(10**9, 2 * 10**9))
        body["return_url"] = f"https://shop.example/return?order={body['order_id']}&ts={ts}"
    return body


@DETERMINISTIC
@given(body=ordinary_bodies(), b64=st.booleans(), ensure_ascii=st.booleans())
def test_ordinary_payment_bodies_pass(body, b64, ensure_ascii):
    document = json.dumps(body, ensure_ascii=ensure_ascii)
    assert parse_json_body(body_event(document, b64)) == body


@DETERMINISTIC
@given(value=TOKENS)
def test_timestamps_uuids_and_amounts_are_not_card_numbers(value):
    assert not contains_card_number(value)
