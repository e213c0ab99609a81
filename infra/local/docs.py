"""/v1/openapi.json and the Swagger UI at /v1/docs, served by the local gateway without any CDN.

The document is generated live (in a subprocess, so handler modules never load into the gateway) and
regenerated when the code changes; if generation fails, the committed openapi.json is served instead.
"""

from __future__ import annotations

import json
import mimetypes
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from infra.local.environment import base_environment
from infra.local.settings import ROOT
from tools import openapi

ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png")


class ApiDocs:
    def __init__(
        self, api_base: str, code_version: Callable[[], float], warn: Callable[[str], None], root: Path = ROOT
    ) -> None:
        self._api_base = api_base  # the stage prefix as the browser sees it, e.g. "/v1"
        self._code_version = code_version
        self._warn = warn
        self._root = root
        self._cache: tuple[float, bytes] | None = None
        self._lock = threading.Lock()

    def document(self) -> bytes:
        version = self._code_version()
        with self._lock:
            if self._cache is None or self._cache[0] != version:
                self._cache = (version, self._generate())
            return self._cache[1]

    def swagger_document(self) -> bytes:
        converted = openapi.for_swagger_ui(json.loads(self.document()))
        return json.dumps(converted).encode()

    def page(self) -> bytes:
        return openapi.swagger_page(self._api_base).encode()

    def asset(self, name: str) -> tuple[bytes, str] | None:
        if name not in ASSETS:
            return None
        from swagger_ui_bundle import swagger_ui_path

        data = (Path(str(swagger_ui_path)) / name).read_bytes()
        return data, mimetypes.guess_type(name)[0] or "application/octet-stream"

    def _generate(self) -> bytes:
        result = subprocess.run(
            [sys.executable, "-m", "tools.openapi", "--stdout"],
            cwd=self._root,
            env=base_environment(),
            capture_output=True,
            timeout=60,
            check=False,
        )
        if result.returncode == 0:
            return result.stdout
        last = (result.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        self._warn(f"OpenAPI generation failed ({last}); serving the committed openapi.json")
        committed = self._root / "openapi.json"
        return committed.read_bytes() if committed.exists() else b"{}"
