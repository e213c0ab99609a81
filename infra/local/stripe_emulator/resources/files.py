"""The Files API: uploads for dispute evidence (`POST /v1/files`, multipart/form-data, as the SDK sends
to files.stripe.com), and the File objects (`GET /v1/files[/{file}]`).

Stripe's rules for purpose `dispute_evidence`: a PDF, JPEG or PNG (told by the content, as the SDK sends
every file as application/octet-stream) of at most 5 MB.
"""

from __future__ import annotations

from ..errors import invalid_request
from ..forms import Upload
from ..model import Obj
from ..params import FileUpload, String
from ..routing import Call, Route, endpoint, list_endpoint
from ..store import Store

PURPOSES = ("dispute_evidence",)
MAX_DISPUTE_EVIDENCE_BYTES = 5 * 1024 * 1024
_SIGNATURES = {"pdf": b"%PDF-", "jpg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n"}


def dispute_evidence_file(store: Store, file_id: str, param: str) -> Obj:
    """The file an evidence field names: one of ours, uploaded for dispute evidence."""
    found = store.get("file", file_id, param=param, status=400)
    if found["purpose"] != "dispute_evidence":
        raise invalid_request(
            f"The file {file_id} was uploaded with purpose {found['purpose']}, not dispute_evidence.",
            param=param,
        )
    return found


def _type_of(data: bytes) -> str | None:
    return next((kind for kind, magic in _SIGNATURES.items() if data.startswith(magic)), None)


def _create(call: Call) -> Obj:
    upload: Upload = call.params["file"]
    purpose = call.params["purpose"]
    if not upload.data:
        raise invalid_request("The file you uploaded is empty.", param="file")
    if len(upload.data) > MAX_DISPUTE_EVIDENCE_BYTES:
        raise invalid_request(
            f"The file is {len(upload.data)} bytes; files for {purpose} may be at most "
            f"{MAX_DISPUTE_EVIDENCE_BYTES} bytes (5 MB).",
            param="file",
        )
    kind = _type_of(upload.data)
    if kind is None:
        raise invalid_request(
            f"The file's type is not supported for {purpose}: upload a PDF, JPEG or PNG file.", param="file"
        )
    created = call.store.create(
        "file",
        {
            "expires_at": None,
            "filename": upload.filename,
            "links": None,
            "purpose": purpose,
            "size": len(upload.data),
            "title": None,
            "type": kind,
            "url": None,
        },
    )
    created["_data"] = upload.data
    return created


def _retrieve(call: Call) -> Obj:
    return call.store.get("file", call.path["file"], param="file")


ROUTES: list[Route] = [
    endpoint(
        "POST",
        "/v1/files",
        _create,
        "file",
        {"file": FileUpload(required=True), "purpose": String(required=True, choices=PURPOSES)},
    ),
    list_endpoint("/v1/files", "file", {"purpose": String(choices=PURPOSES)}),
    endpoint("GET", "/v1/files/{file}", _retrieve, "file"),
]
