"""Decoding Stripe's bracketed form encoding into nested dicts and lists.

`metadata[order_id]=x` becomes `{"metadata": {"order_id": "x"}}` and `expand[]=a` becomes
`{"expand": ["a"]}`. Indexed arrays (`expand[0]=a`, which the official SDKs send) stay dicts with
numeric keys here: the form alone cannot tell `expand[0]` from `metadata[0]`, so the parameter
schema (params.ListOf) turns them into lists where a list is expected.

File uploads (`POST /v1/files`) come as multipart/form-data, as the SDK sends them: each part named
like a form key, the file as a part with a filename, which becomes an `Upload`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
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


def _assign(root: Obj, path: list[str], value: object, raw_key: str) -> None:
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


@dataclass(frozen=True)
class Upload:
    """The file part of a multipart/form-data body."""

    filename: str
    content_type: str
    data: bytes

    def fingerprint(self) -> dict[str, Any]:
        """What idempotency compares of a file: its name and content."""
        return {"filename": self.filename, "sha256": hashlib.sha256(self.data).hexdigest()}


_BOUNDARY = re.compile(r';\s*boundary="?([^";]+)"?', re.IGNORECASE)
_DISPOSITION_PARAM = re.compile(r';\s*(name|filename)="([^"]*)"', re.IGNORECASE)


def decode_multipart(body: bytes, content_type: str) -> Obj:
    """A multipart/form-data body (RFC 7578) as form parameters; file parts become `Upload`s."""
    found = _BOUNDARY.search(content_type)
    if found is None:
        raise invalid_request("Invalid request: the multipart/form-data body has no boundary.")
    delimiter = b"--" + found.group(1).encode()
    sections = body.split(delimiter)
    if len(sections) < 2 or sections[0].strip() or not sections[-1].startswith(b"--"):
        raise invalid_request("Invalid request: the multipart/form-data body is malformed.")
    root: Obj = {}
    for section in sections[1:-1]:
        if not section.startswith(b"\r\n") or not section.endswith(b"\r\n"):
            raise invalid_request("Invalid request: the multipart/form-data body is malformed.")
        head, separator, content = section[2:-2].partition(b"\r\n\r\n")
        if not separator:
            raise invalid_request("Invalid request: a multipart/form-data part has no headers.")
        headers = dict(_header(line) for line in head.decode("utf-8", "replace").split("\r\n") if line)
        disposition = headers.get("content-disposition", "")
        params = {key.lower(): value for key, value in _DISPOSITION_PARAM.findall(disposition)}
        if "name" not in params:
            raise invalid_request("Invalid request: a multipart/form-data part has no name.")
        field: Any
        if "filename" in params:
            kind = headers.get("content-type", "application/octet-stream")
            field = Upload(params["filename"], kind, content)
        else:
            field = content.decode("utf-8", "replace")
        _assign(root, _split_key(params["name"]), field, params["name"])
    return root


def _header(line: str) -> tuple[str, str]:
    name, _, value = line.partition(":")
    return name.strip().lower(), value.strip()
