"""The Search API: a subset of Stripe's search query language, and a search index that can lag.

Queries are clauses such as `metadata['order_id']:'o-1'`, `status:'succeeded'`, `amount>1000` or
`-currency:'usd'` (negated), joined by spaces or `AND`, or by `OR` (not both), at most ten. Values
of text fields are quoted with `'` or `"` (a backslash escapes the quote); numbers may be bare;
`metadata['key']:null` matches objects without that key. Token fields (ids, statuses, currencies,
metadata values) match exactly and case-sensitively; there is no substring (`~`) field on
PaymentIntents, as on Stripe.

Stripe's search is eventually consistent: "data is searchable in under 1 minute". The index here
is current unless a lag is set: then a search sees each object as it was `lag` seconds ago
(objects younger than that are not found), until `index_now()` catches everything up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import operator
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .errors import ApiError, invalid_request
from .model import Obj, public

MAX_CLAUSES = 10
DEFAULT_LIMIT = 10

# object type -> (resource name in messages and docs anchors, field -> field type)
FIELDS: dict[str, tuple[str, dict[str, str]]] = {
    "payment_intent": (
        "payment_intents",
        {
            "amount": "numeric",
            "created": "numeric",
            "currency": "token",
            "customer": "token",
            "metadata": "metadata",
            "status": "token",
        },
    ),
}

_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_OPERATOR = re.compile(r">=|<=|[:~<>]")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_CONNECTOR = re.compile(r"(AND|OR)(?=[\s\-]|$)", re.IGNORECASE)
_NULL = re.compile(r"null(?=\s|$)")
_COMPARE: dict[str, Callable[[int, int], bool]] = {
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
    ":": operator.eq,
}
_DOCS = "https://docs.stripe.com/search#search-query-language"


@dataclass(frozen=True)
class Clause:
    field: str
    key: str | None  # the metadata key
    operator: str
    value: str | int | None  # None: `null`
    negated: bool

    def matches(self, obj: Obj) -> bool:
        return self._test(obj) != self.negated

    def _test(self, obj: Obj) -> bool:
        if self.field == "metadata":
            metadata = obj.get("metadata") or {}
            if self.value is None:
                return self.key not in metadata
            return metadata.get(self.key) == self.value
        actual = obj.get(self.field)
        if isinstance(self.value, int):
            return isinstance(actual, int) and _COMPARE[self.operator](actual, self.value)
        return actual == self.value


@dataclass(frozen=True)
class Query:
    text: str
    clauses: tuple[Clause, ...]
    any_of: bool  # clauses joined by OR

    def matches(self, obj: Obj) -> bool:
        results = (clause.matches(obj) for clause in self.clauses)
        return any(results) if self.any_of else all(results)


def _syntax(text: str, position: int, detail: str) -> ApiError:
    return invalid_request(
        f"Invalid search query {text!r} at position {position}: {detail}. See {_DOCS} for the syntax.",
        param="query",
    )


class _Parser:
    def __init__(self, text: str, kind: str) -> None:
        self.text = text
        self.position = 0
        self.resource, self.fields = FIELDS[kind]

    def parse(self) -> Query:
        clauses: list[Clause] = []
        connectors: set[str] = set()
        while self._skip_space():
            if clauses:
                connector = _CONNECTOR.match(self.text, self.position)
                if connector:
                    connectors.add(connector.group(1).upper())
                    self.position = connector.end()
                    if not self._skip_space():
                        raise _syntax(self.text, self.position, "a clause must follow AND or OR")
            clauses.append(self._clause())
        if not clauses:
            raise _syntax(self.text, 0, "the query has no clause")
        if len(connectors) > 1:
            raise invalid_request(
                "A search query cannot combine AND and OR; use one of them throughout.", param="query"
            )
        if len(clauses) > MAX_CLAUSES:
            raise invalid_request(
                f"A search query can have at most {MAX_CLAUSES} clauses (this one has {len(clauses)}).",
                param="query",
            )
        return Query(self.text, tuple(clauses), any_of=connectors == {"OR"})

    def _skip_space(self) -> bool:
        while self.position < len(self.text) and self.text[self.position].isspace():
            self.position += 1
        return self.position < len(self.text)

    def _clause(self) -> Clause:
        negated = self.text.startswith("-", self.position)
        self.position += negated
        start = self.position
        found = _FIELD.match(self.text, self.position)
        if found is None:
            raise _syntax(self.text, self.position, "expected a field name")
        field, self.position = found.group(), found.end()
        kind = self.fields.get(field)
        if kind is None:
            raise invalid_request(
                f"Field `{field}` is an unsupported search field for resource `{self.resource}`. See "
                f"https://docs.stripe.com/search#query-fields-for-{self.resource.replace('_', '-')} "
                "for a list of supported fields.",
                param="query",
            )
        key = None
        if self.text.startswith("[", self.position):
            self.position += 1
            key = self._quoted()
            if not self.text.startswith("]", self.position):
                raise _syntax(self.text, self.position, "expected `]` after the metadata key")
            self.position += 1
        if (kind == "metadata") != (key is not None):
            detail = "metadata needs a key: metadata['key']" if key is None else f"{field} has no keys"
            raise _syntax(self.text, start, detail)
        found = _OPERATOR.match(self.text, self.position)
        if found is None:
            raise _syntax(self.text, self.position, "expected an operator (`:`, `>`, `<`, `>=`, `<=`)")
        symbol, self.position = found.group(), found.end()
        if symbol == "~" or (symbol != ":" and kind != "numeric"):
            raise invalid_request(f"Field `{field}` does not support the `{symbol}` operator.", param="query")
        return Clause(field, key, symbol, self._value(field, kind), negated)

    def _value(self, field: str, kind: str) -> str | int | None:
        position = self.position
        if self.text.startswith(("'", '"'), position):
            value: str | int | None = self._quoted()
        elif number := _NUMBER.match(self.text, position):
            value, self.position = number.group(), number.end()
        elif null := _NULL.match(self.text, position):
            value, self.position = None, null.end()
        else:
            raise _syntax(self.text, position, "expected a quoted value")
        if kind == "numeric":
            if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
                raise invalid_request(f"Field `{field}` must be compared with an integer.", param="query")
            return int(value)
        if value is None and kind != "metadata":
            raise invalid_request(f"Field `{field}` cannot be compared with null.", param="query")
        if value is not None and self.text[position] not in "'\"":
            raise _syntax(self.text, position, "text values must be quoted")
        return value

    def _quoted(self) -> str:
        quote = self.text[self.position : self.position + 1]
        if quote not in ("'", '"'):
            raise _syntax(self.text, self.position, "expected a quoted string")
        characters: list[str] = []
        index = self.position + 1
        while index < len(self.text):
            character = self.text[index]
            if character == "\\" and index + 1 < len(self.text):
                characters.append(self.text[index + 1])
                index += 2
                continue
            if character == quote:
                self.position = index + 1
                return "".join(characters)
            characters.append(character)
            index += 1
        raise _syntax(self.text, self.position, "unterminated quoted string")


def parse_query(text: str, kind: str) -> Query:
    return _Parser(text, kind).parse()


def _query_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def page_token(query: Query, offset: int) -> str:
    raw = json.dumps({"o": offset, "q": _query_hash(query.text)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page_offset(query: Query, token: str | None) -> int:
    """The offset a `next_page` token stands for; it only works with the query that produced it."""
    if token is None:
        return 0
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset, query_hash = decoded["o"], decoded["q"]
    except (binascii.Error, ValueError, TypeError, KeyError) as error:
        raise invalid_request(f"Invalid page: {token}", param="page") from error
    if not isinstance(offset, int) or offset < 0 or query_hash != _query_hash(query.text):
        raise invalid_request(
            f"Invalid page: {token} does not belong to this query; pass the `next_page` of the previous "
            "page together with the same query.",
            param="page",
        )
    return offset


def search_result(candidates: Sequence[tuple[Obj, Obj]], query: Query, params: Obj, url: str) -> Obj:
    """A `search_result` page; `candidates` are (object, indexed snapshot) pairs, oldest first.

    `total_count` is only included when expanded (`expand[]=total_count`), as Stripe does.
    """
    limit = params.get("limit") or DEFAULT_LIMIT
    offset = page_offset(query, params.get("page"))
    matches = [obj for obj, indexed in reversed(candidates) if query.matches(indexed)]
    data = matches[offset : offset + limit]
    has_more = len(matches) > offset + limit
    result: Obj = {
        "object": "search_result",
        "data": data,
        "has_more": has_more,
        "next_page": page_token(query, offset + limit) if has_more else None,
        "url": url,
    }
    if "total_count" in (params.get("expand") or []):
        result["total_count"] = len(matches)
    return result


class SearchIndex:
    """What the Search API can see. Called under the store lock only.

    With `lag` 0 (the default) it sees every object as it is now. Otherwise each change is recorded
    with the time it was first observed (at the end of every request and control action), and a
    search sees the newest version at least `lag` seconds old.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lag = 0.0
        self._versions: dict[str, list[tuple[float, Obj]]] = {}

    @property
    def lag(self) -> float:
        return self._lag

    def set_lag(self, lag: float, objects: Iterable[Obj]) -> None:
        if not math.isfinite(lag) or lag < 0:
            raise ValueError("search_lag must be a number of seconds, 0 or more")
        if self._lag == 0:
            self.index_now(objects)  # what exists when the lag starts is already searchable
        self._lag = float(lag)
        if lag == 0:
            self._versions.clear()

    def index_now(self, objects: Iterable[Obj]) -> None:
        """Catch up: every object becomes searchable as it is now."""
        self._versions = {obj["id"]: [(-math.inf, public(obj))] for obj in objects}

    def observe(self, objects: Iterable[Obj]) -> None:
        if self._lag <= 0:
            return
        now = self._clock()
        cutoff = now - self._lag
        for obj in objects:
            snapshot = public(obj)
            versions = self._versions.setdefault(obj["id"], [])
            if not versions or versions[-1][1] != snapshot:
                versions.append((now, snapshot))
            # Keep the newest version a search can already see, and everything after it.
            while len(versions) > 1 and versions[1][0] <= cutoff:
                versions.pop(0)

    def searchable(self, objects: Sequence[Obj]) -> list[tuple[Obj, Obj]]:
        """(object, the version a search matches against) for every object a search can find."""
        if self._lag <= 0:
            return [(obj, obj) for obj in objects]
        self.observe(objects)
        cutoff = self._clock() - self._lag
        found = []
        for obj in objects:
            visible = [snapshot for seen, snapshot in self._versions.get(obj["id"], []) if seen <= cutoff]
            if visible:
                found.append((obj, visible[-1]))
        return found

    def clear(self) -> None:
        self._versions.clear()
