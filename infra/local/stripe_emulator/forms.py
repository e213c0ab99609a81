"""Decoding Stripe's bracketed form encoding into nested dicts and lists.

`metadata[order_id]=x` becomes `{"metadata": {"order_id": "x"}}` and `expand[]=a` becomes
`{"expand": ["a"]}`. Indexed arrays (`expand[0]=a`, which the official SDKs send) stay dicts with
numeric keys here: the form alone cannot tell `expand[0]` from `metadata[0]`, so the parameter
schema (params.ListOf) turns them into lists where a list is expected.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import invalid_request
from .model import Obj

_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def decode_form(encoded: str) -> Obj:
    root: Obj = {}
    for key, value in parse_qsl(encoded, keep_blank_values=True):
        _assign(root, _split_key(key), value, key)
    return root


def _split_key(key: str) -> list[str]:
    match = _KEY.fullmatch(key)
    if match is None:
        # Not bracket syntax; keep it whole so validation reports it as an unknown parameter.
        return [key]
    return [match.group(1), *_SEGMENT.findall(match.group(2))]


def _assign(root: Obj, path: list[str], value: str, raw_key: str) -> None:
    node: Any = root
    for depth, segment in enumerate(path):
        last = depth == len(path) - 1
        child: Any = value if last else ([] if path[depth + 1] == "" else {})
        if segment == "":  # `key[]`: append
            if not isinstance(node, list):
                raise _malformed(raw_key)
            node.append(child)
        elif not isinstance(node, dict):
            raise _malformed(raw_key)
        elif last:
            if isinstance(node.get(segment), dict | list):
                raise _malformed(raw_key)
            node[segment] = child  # repeated scalar keys: the last one wins
        else:
            existing = node.setdefault(segment, child)
            if type(existing) is not type(child):
                raise _malformed(raw_key)
            child = existing
        node = child


def _malformed(raw_key: str) -> Exception:
    return invalid_request(f"Invalid parameter structure: {raw_key} mixes a value with a hash or array.")
