"""The back-office console and the checkout page (web/), served by the local gateway at /console/ and
/checkout/ as static files, with the site's security headers (infra/console_site.py).

Each page reads `config.json` beside it; here it is made per request, not a file: the API's address as
the browser reached the gateway (so the API stays the page's own origin, whichever loopback name was
used), and the local sign-in (infra/local/sign_in.py) instead of Cognito's hosted UI.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

from infra import catalog
from infra.console_site import security_headers
from infra.local.loopback import LOOPBACK_HOSTS
from infra.local.settings import ROOT

WEB_ROOT = ROOT / "web"
SITES = ("console", "checkout")
CONFIG_FILE = "config.json"
# What the pages are made of; anything else under web/ is not served.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


def handles(path: str) -> bool:
    return any(path == f"/{site}" or path.startswith(f"/{site}/") for site in SITES)


def local_config(api_base: str) -> dict[str, object]:
    """config.json as the local stack gives it (the AWS hosting writes the Cognito kind)."""
    return {"api_base": api_base, "auth": {"kind": "local"}}


class LocalSite:
    def __init__(self, api_url: str, root: Path = WEB_ROOT) -> None:
        self._api_url = api_url  # the configured address, when the browser's Host is not a loopback one
        self._root = root

    def answer(self, method: str, path: str, host: str | None) -> Answer:
        if method not in ("GET", "HEAD"):
            return self._page(405, b"Method not allowed", "text/plain; charset=utf-8", [("Allow", "GET")])
        site, _, rest = path.lstrip("/").partition("/")
        if path == f"/{site}":
            return Answer(302, headers=[("Location", f"/{site}/")])
        if rest == CONFIG_FILE:
            body = json.dumps(local_config(self._api_base(host))).encode()
            return self._page(200, body, "application/json")
        file = self._file(site, rest or "index.html")
        if file is None:
            return self._page(404, b"Not found", "text/plain; charset=utf-8")
        content_type = CONTENT_TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or ""
        return self._page(200, file.read_bytes(), content_type)

    def _file(self, site: str, name: str) -> Path | None:
        folder = (self._root / site).resolve()
        candidate = (folder / name).resolve()
        if not candidate.is_relative_to(folder) or candidate.suffix not in CONTENT_TYPES:
            return None
        return candidate if candidate.is_file() else None

    def _api_base(self, host: str | None) -> str:
        name, _, port = (host or "").rpartition(":")
        if name in LOOPBACK_HOSTS and port.isdigit():
            return f"http://{name}:{port}/{catalog.API_STAGE}"
        return self._api_url

    @staticmethod
    def _page(
        status: int, body: bytes, content_type: str, extra: list[tuple[str, str]] | None = None
    ) -> Answer:
        headers = [("Content-Type", content_type), ("Cache-Control", "no-cache")]
        return Answer(status, body, headers + security_headers(https=False) + (extra or []))
