"""Checks on the raw request before any parsing or logging: media type, size, encoding, JSON shape, and
the PAN guard.

A request with a body must declare it JSON: `application/json` or `application/<subtype>+json`, any
case, with no parameter but `charset=utf-8` (else 415 unsupported_media_type). A request without one
(nothing but whitespace) needs no Content-Type. The body must be UTF-8 (base64-decoded first when API
Gateway encoded it): invalid bytes, which API Gateway hands on as U+FFFD, and unpaired surrogate escapes
are refused (400), as are bodies over MAX_BODY_BYTES (a route may allow more: dispute evidence files),
JSON nested deeper than MAX_DEPTH arrays and objects, objects repeating a key (which value would count?)
and NaN or Infinity.

Card numbers must never enter our systems. A body is refused with 400 card_data_not_accepted when a
JSON string (key or value, once its escapes are decoded) or a number holds a card number: 13 to 19
decimal digits in a card network's range passing Luhn, read

- in any script: every Unicode decimal digit (full-width, Arabic-Indic, ...), and after NFKC
  normalization the compatibility forms (superscript, circled, ...);
- whatever separates the digits: a run of up to MAX_SEPARATOR characters that are neither letters nor
  digits (spaces of every kind, dots, dashes, slashes, colons, commas, ...), once invisible characters
  (zero-width spaces, soft hyphens, combining marks, ...) are dropped and a run of whitespace counts as
  one character;
- whatever follows: more digits, an expiry or a CVC. Every group of digits (a start of the run, or the
  first digit after a separator) starts a candidate, checked at each length from 13 to 19 digits.

The card networks' ranges: Visa 4, Mastercard 22-27 and 5, Amex/Diners/JCB 3, Discover/UnionPay/Maestro
6, UnionPay 81. A Luhn-valid number outside them (a numeric order id starting with 1, 7 or 9) is not a
card number. Two shapes are not read as digits, being common in payment bodies and refused by chance
otherwise (about 1 in 350 random UUIDs, 1 in 8 timestamps with microseconds): a UUID (8-4-4-4-12 hex)
and an ISO 8601 date-time with a valid date and time (2026-11-26T12:34:56.789012+00:00). Digits glued
before a number (with no separator) make another number, and a number split over several JSON values is
several numbers. What stays refused by chance is what cannot be told from a card number followed by
more digits: a long number in a network's range whose first 13 to 19 digits pass Luhn (a third of
16-digit ones), or a grouped one such as an IBAN or a phone number from one of its groups on.

The value is never echoed or logged: the problem names no value, key or position.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from payments.domain.errors import BadRequest, CardDataNotAccepted, UnsupportedMediaType

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32
MAX_SEPARATOR = 3
MIN_PAN, MAX_PAN = 13, 19

# --------------------------------------------------------------------------- media type


_JSON_MEDIA_TYPE = re.compile(r"application/(?:[a-z0-9!#$&^_.+-]+\+)?json")


def is_json_media_type(content_type: str | None) -> bool:
    """application/json or application/*+json, with at most a charset=utf-8 parameter, any case."""
    if not isinstance(content_type, str):
        return False
    media_type, *parameters = content_type.split(";")
    if not _JSON_MEDIA_TYPE.fullmatch(media_type.strip().lower()):
        return False
    for parameter in parameters:
        if not parameter.strip():
            continue  # "application/json;" (a trailing semicolon)
        name, equals, value = parameter.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if not equals or name.strip().lower() != "charset" or value.lower() != "utf-8":
            return False
    return True


def _header(event: dict[str, Any], name: str) -> str | None:
    for field_name in ("headers", "multiValueHeaders"):
        headers = event.get(field_name)
        if isinstance(headers, dict):
            for key, value in headers.items():
                if str(key).lower() == name:
                    if isinstance(value, list):
                        return str(value[-1]) if value else None
                    return None if value is None else str(value)
    return None


# --------------------------------------------------------------------------- the whole request


@dataclass(frozen=True)
class GuardedRequest:
    has_body: bool
    body: Any  # the decoded JSON (None without a body)


def guard_request(event: dict[str, Any], max_body_bytes: int = MAX_BODY_BYTES) -> GuardedRequest:
    """Every check on the raw event: its body's size and encoding, its media type, its JSON, card
    numbers. Raises a PaymentsError with a 4xx status."""
    data = raw_body(event)
    _check_size(data, max_body_bytes)
    if not data.strip():
        return GuardedRequest(has_body=False, body=None)
    if not is_json_media_type(_header(event, "content-type")):
        raise UnsupportedMediaType(
            "send the body as JSON with Content-Type: application/json (charset utf-8 if any)"
        )
    return GuardedRequest(has_body=True, body=_parse(data))


def raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body")
    if body is None or body == "":
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise BadRequest("malformed_body", "the body is not valid base64") from None
    if isinstance(body, bytes):
        return body
    if not isinstance(body, str):
        raise BadRequest("malformed_body", "the body is not text")
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("malformed_body", _NOT_UTF8) from None


def parse_json_body(event: dict[str, Any]) -> Any:
    """The decoded JSON body (None when empty), after the size, encoding, shape and PAN checks."""
    data = raw_body(event)
    _check_size(data)
    if not data.strip():
        return None
    return _parse(data)


_NOT_UTF8 = "the body is not valid UTF-8 (it holds invalid bytes, or U+FFFD replacement characters for them)"


def _check_size(data: bytes, limit: int = MAX_BODY_BYTES) -> None:
    if len(data) > limit:
        raise BadRequest("payload_too_large", f"the body must be at most {limit} bytes")


def _parse(data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("malformed_body", _NOT_UTF8) from None
    if "\ufffd" in text:
        # What API Gateway makes of bytes that are not UTF-8 in a text body.
        raise BadRequest("malformed_body", _NOT_UTF8)
    _check_depth(text)
    try:
        parsed = json.loads(
            text,
            object_pairs_hook=_object,
            parse_constant=_reject_constant,
            parse_int=_integer,
            parse_float=_float,
        )
    except RecursionError:  # not reached after _check_depth; never a 500 if it were
        raise _too_deep() from None
    except ValueError:
        raise BadRequest("malformed_json", "the body is not valid JSON") from None
    _check_strings(parsed)
    return parsed


# --------------------------------------------------------------------------- JSON shape

# A JSON string, possibly unterminated (then to the end of the text): matched once, never retried
# from a quote inside it, so the scan stays linear whatever the quotes and backslashes.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*+"?', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _too_deep() -> BadRequest:
    return BadRequest(
        "nesting_too_deep", f"the JSON body may nest arrays and objects at most {MAX_DEPTH} levels deep"
    )


def _check_depth(text: str) -> None:
    """Refuses nesting over MAX_DEPTH before the parser recurses into it (brackets within strings are
    text). A body that is not JSON may be counted wrong here; the parser refuses it then."""
    outside = _STRING.sub("", text)
    if outside.count("[") + outside.count("{") <= MAX_DEPTH:
        return
    depth = 0
    for bracket in _BRACKET.findall(outside):
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep()
        else:
            depth -= 1


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        # The key is not named: it may be card data itself.
        raise BadRequest("duplicate_key", "a JSON object in the body has the same key twice; send each once")
    return result


def _reject_constant(text: str) -> None:
    raise ValueError(f"{text} is not JSON")


def _integer(lexeme: str) -> int:
    _refuse_card_number(lexeme)
    return int(lexeme)


def _float(lexeme: str) -> float:
    _refuse_card_number(lexeme)
    return float(lexeme)


def _check_strings(value: Any) -> None:
    """Every key and string value (escapes decoded): UTF-8-encodable, and no card number in it."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            _check_string(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_string(key)
                pending.append(child)
        elif isinstance(item, list):
            pending.extend(item)


def _check_string(text: str) -> None:
    if _SURROGATE.search(text):
        raise BadRequest(
            "malformed_json", "the body holds an unpaired surrogate escape (\\ud800-\\udfff): no character"
        )
    _refuse_card_number(text)


def _refuse_card_number(text: str) -> None:
    if contains_card_number(text):
        raise CardDataNotAccepted(
            "card numbers are not accepted; send a Stripe payment method id (pm_...) instead"
        )


# --------------------------------------------------------------------------- card numbers

_RUN = re.compile(rf"\d+(?:[\W_]{{1,{MAX_SEPARATOR}}}\d+)*")
_DIGITS = re.compile(r"\d+")
# Characters nobody sees: zero-width and format characters, soft hyphen, variation selectors, tags,
# combining marks. Dropped before reading digits, so that they neither separate nor lengthen a separator.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff"
    "\ufe20-\ufe2f]+"
)
_WHITESPACE = re.compile(r"\s+")
_UUID = re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}(?![0-9A-Za-z])")
_DATE_TIME = re.compile(
    r"(?<![0-9])(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"[Tt ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::(?:[0-5][0-9]|60)(?:[.,][0-9]{1,9})?)?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])?(?![0-9])"
)
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def contains_card_number(text: str) -> bool:
    for run in _RUN.finditer(_readable(text)):
        if run.end() - run.start() < MIN_PAN:
            continue  # fewer characters than a card number has digits (most runs: base64, ids, prices)
        groups = _DIGITS.findall(run.group())
        digits = [int(char) for group in groups for char in group]
        if len(digits) < MIN_PAN:
            continue
        starts, offset = [], 0
        for group in groups:
            starts.append(offset)
            offset += len(group)
        if _card_window(digits, starts):
            return True
    return False


def _readable(text: str) -> str:
    """The text as a reader sees its digits: compatibility forms folded, invisible characters dropped,
    whitespace runs as one space, UUIDs and date-times set aside."""
    if not text.isascii():
        text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = _WHITESPACE.sub(" ", text)
    return _DATE_TIME.sub("x", _UUID.sub("x", text))


def _card_window(digits: list[int], starts: list[int]) -> bool:
    """Whether digits[s:e], for a start s and 13 <= e - s <= 19, is a network number passing Luhn.

    Luhn doubles every second digit counting from the last one, so the weights depend on where a
    window ends. Two sums grow with the window, one doubling the digits at odd distances from the
    start and one those at even distances: the one whose last digit is not doubled is the window's."""
    count = len(digits)
    for start in starts:
        if count - start < MIN_PAN or not _network(digits[start], digits[start + 1]):
            continue
        odd_doubled = even_doubled = 0
        for index in range(start, min(start + MAX_PAN, count)):
            digit = digits[index]
            if (index - start) % 2:
                odd_doubled += _DOUBLED[digit]
                even_doubled += digit
            else:
                odd_doubled += digit
                even_doubled += _DOUBLED[digit]
            if index - start + 1 >= MIN_PAN:
                last_is_even = (index - start) % 2 == 0
                if (odd_doubled if last_is_even else even_doubled) % 10 == 0:
                    return True
    return False


def _network(first: int, second: int) -> bool:
    """Card networks' ranges: Visa 4, Mastercard 22-27 and 5, Amex/Diners/JCB 3, Discover/UnionPay/
    Maestro 6, UnionPay 81."""
    return 3 <= first <= 6 or (first == 2 and 2 <= second <= 7) or (first == 8 and second == 1)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char)
        if index % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0
