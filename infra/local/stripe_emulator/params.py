"""Strict parameter schemas, validated before an endpoint runs.

Every endpoint declares the parameters it accepts; anything else is a 400 `parameter_unknown`, as
with Stripe. Validation produces typed values (ints, bools, lists) and keeps the "absent" versus
"empty" distinction Stripe relies on: a key missing from the result was not sent, a key mapped to
None was sent as an empty string (which Stripe reads as "unset").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import invalid_request
from .forms import Upload
from .model import Obj

_INTEGER = re.compile(r"-?\d+")
_METADATA_KEYS = 50
_METADATA_KEY_LENGTH = 40
_METADATA_VALUE_LENGTH = 500


def _child(parent: str, key: str | int) -> str:
    return f"{parent}[{key}]" if parent else str(key)


def _one_of(choices: tuple[str, ...]) -> str:
    return ", ".join(choices[:-1]) + f", or {choices[-1]}" if len(choices) > 1 else choices[0]


class Spec:
    """One parameter's rule. `coerce` turns the raw form value into the typed value or raises."""

    def __init__(self, *, required: bool = False) -> None:
        self.required = required

    def coerce(self, value: object, name: str) -> Any:
        raise NotImplementedError


class String(Spec):
    def __init__(
        self, *, required: bool = False, choices: tuple[str, ...] = (), max_length: int = 5000
    ) -> None:
        super().__init__(required=required)
        self.choices = choices
        self.max_length = max_length

    def coerce(self, value: object, name: str) -> str:
        if not isinstance(value, str):
            raise invalid_request(f"Invalid string: {name} must be a string, not a hash.", param=name)
        if len(value) > self.max_length:
            raise invalid_request(f"Invalid {name}: must be at most {self.max_length} characters", param=name)
        if self.choices and value not in self.choices:
            raise invalid_request(f"Invalid {name}: must be one of {_one_of(self.choices)}", param=name)
        return value


class Integer(Spec):
    def __init__(
        self, *, required: bool = False, minimum: int | None = None, maximum: int | None = None
    ) -> None:
        super().__init__(required=required)
        self.minimum = minimum
        self.maximum = maximum

    def coerce(self, value: object, name: str) -> int:
        # Stripe rejects anything that is not a plain integer literal: "12.5", "1e3", "abc".
        if not isinstance(value, str) or not _INTEGER.fullmatch(value):
            raise invalid_request(f"Invalid integer: {value}", code="parameter_invalid_integer", param=name)
        number = int(value)
        if self.minimum is not None and number < self.minimum:
            raise invalid_request(
                f"This value must be greater than or equal to {self.minimum}.",
                code="parameter_invalid_integer",
                param=name,
            )
        if self.maximum is not None and number > self.maximum:
            raise invalid_request(
                f"This value must be less than or equal to {self.maximum} (it currently is '{number}').",
                code="parameter_invalid_integer",
                param=name,
            )
        return number


class Boolean(Spec):
    def coerce(self, value: object, name: str) -> bool:
        if value not in ("true", "false"):
            raise invalid_request(f"Invalid boolean: {value}", param=name)
        return value == "true"


class FileUpload(Spec):
    """The file part of a multipart/form-data upload (`POST /v1/files`)."""

    def coerce(self, value: object, name: str) -> Upload:
        if not isinstance(value, Upload):
            raise invalid_request(f"Invalid {name}: send the file as a multipart/form-data part.", param=name)
        return value


class Metadata(Spec):
    """A string-to-string hash; an empty value is kept so updates can delete that key."""

    def coerce(self, value: object, name: str) -> dict[str, str]:
        if not isinstance(value, dict):
            raise invalid_request("Invalid hash", param=name)
        if len(value) > _METADATA_KEYS:
            raise invalid_request(f"You can specify up to {_METADATA_KEYS} keys in {name}.", param=name)
        for key, item in value.items():
            if not isinstance(item, str):
                raise invalid_request(
                    f"Invalid value type: {{}} must be a string under {_child(name, key)}",
                    param=_child(name, key),
                )
            if len(key) > _METADATA_KEY_LENGTH or len(item) > _METADATA_VALUE_LENGTH:
                raise invalid_request(
                    f"Metadata keys can be up to {_METADATA_KEY_LENGTH} characters and values up to "
                    f"{_METADATA_VALUE_LENGTH} characters long.",
                    param=_child(name, key),
                )
        return dict(value)


class ListOf(Spec):
    def __init__(self, item: Spec, *, required: bool = False) -> None:
        super().__init__(required=required)
        self.item = item

    def coerce(self, value: object, name: str) -> list[Any]:
        if isinstance(value, dict) and all(key.isdigit() for key in value):
            items = [value[key] for key in sorted(value, key=int)]  # `key[0]=..&key[1]=..`
        elif isinstance(value, list):
            items = value
        else:
            raise invalid_request("Invalid array", param=name)
        return [self.item.coerce(item, _child(name, index)) for index, item in enumerate(items)]


class Hash(Spec):
    def __init__(self, fields: Mapping[str, Spec], *, required: bool = False) -> None:
        super().__init__(required=required)
        self.fields = fields

    def coerce(self, value: object, name: str) -> Obj:
        if not isinstance(value, dict):
            raise invalid_request("Invalid hash", param=name or None)
        result: Obj = {}
        for key, raw in value.items():
            spec, param = self.fields.get(key), _child(name, key)
            if spec is None:
                raise invalid_request(
                    f"Received unknown parameter: {param}", code="parameter_unknown", param=param
                )
            # An empty string unsets an optional parameter (and is missing for a required one).
            result[key] = None if raw == "" else spec.coerce(raw, param)
        for key, spec in self.fields.items():
            if spec.required and result.get(key) is None:
                param = _child(name, key)
                raise invalid_request(
                    f"Missing required param: {param}.", code="parameter_missing", param=param
                )
        return result


class RangeFilter(Spec):
    """`created=<ts>` or `created[gte]=<ts>`... (any timestamp filter of a list endpoint, such as a
    payout's `arrival_date`); normalised to a dict of bounds."""

    _BOUNDS = Hash({bound: Integer() for bound in ("gt", "gte", "lt", "lte")})

    def coerce(self, value: object, name: str) -> dict[str, int]:
        if isinstance(value, str):
            exact = Integer().coerce(value, name)
            return {"gte": exact, "lte": exact}
        bounds = self._BOUNDS.coerce(value, name)
        return {key: bound for key, bound in bounds.items() if bound is not None}


def validate(params: Obj, fields: Mapping[str, Spec]) -> Obj:
    return Hash(fields).coerce(params, "")
