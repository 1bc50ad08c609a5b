"""HTTP side of the one port: caption page (static files), /healthz, /readyz, /metrics, /v1/voices
(what the loaded models offer, for the page's selectors), and the checks made before a
``/v1/stream`` upgrade (Origin allow-list, Authorization header).

Admission control (max sessions) is not decided here but in the connection handler, right after
the handshake and before any work: the client then sees close code 1013 (try again later), which
the protocol specifies and which browsers expose (an HTTP 503 on the upgrade is only a generic
failure to a browser WebSocket).
"""

from __future__ import annotations

import http
import json
import mimetypes
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from streamvoice.config import ServerConfig
from streamvoice.server.auth import bearer, origin_ok, token_ok

STREAM_PATH = "/v1/stream"
VOICES_PATH = "/v1/voices"
OFFER_PATH = "/v1/webrtc/offer"  # PROTOCOL §13.1: POST, JSON offer -> JSON answer
#: a WebRTC offer's handler: (request body, Authorization header checked) -> (HTTP status, JSON body)
OfferHandler = Callable[[bytes | None, bool], Awaitable[tuple[int, dict[str, object]]]]
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".wasm": "application/wasm",
    ".map": "application/json",
    ".txt": "text/plain; charset=utf-8",
}
MAX_STATIC_BYTES = 8 << 20


def default_web_root() -> Path:
    return Path(__file__).resolve().parents[2] / "clients" / "web"


def _response(status: int, reason: str, body: bytes, content_type: str, extra: dict[str, str] | None = None
              ) -> Response:
    headers = Headers()
    headers["Content-Type"] = content_type
    headers["Content-Length"] = str(len(body))
    headers["Cache-Control"] = "no-store"
    headers["X-Content-Type-Options"] = "nosniff"
    for k, v in (extra or {}).items():
        headers[k] = v
    return Response(status, reason, headers, body)


def text(status: int, reason: str, body: str) -> Response:
    return _response(status, reason, body.encode(), "text/plain; charset=utf-8")


def json_response(status: int, body: dict[str, object], extra: dict[str, str] | None = None) -> Response:
    return _response(status, http.HTTPStatus(status).phrase, json.dumps(body).encode(), "application/json", extra)


def json_error(status: int, code: str, message: str, extra: dict[str, str] | None = None) -> Response:
    return json_response(status, {"error": {"code": code, "message": message}}, extra)


def static_file(root: Path, path: str) -> Response:
    """A file under ``root`` (``/`` is index.html); 404 for anything outside it or hidden."""
    rel = unquote(path).lstrip("/") or "index.html"
    if "\x00" in rel or any(part.startswith(".") for part in rel.split("/")):
        return text(404, "Not Found", "not found\n")
    base = root.resolve()
    target = (base / rel).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        return text(404, "Not Found", "not found\n")
    if target.stat().st_size > MAX_STATIC_BYTES:
        return text(404, "Not Found", "not found\n")
    ctype = _TYPES.get(target.suffix.lower()) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return _response(200, "OK", target.read_bytes(), ctype)


class HttpFace:
    """``process_request`` for the websockets server."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        ready: Callable[[], bool],
        metrics: Callable[[], str],
        offer: Callable[[], dict[str, object]] = dict,
        web_root: Path | None = None,
        webrtc: OfferHandler | None = None,
    ) -> None:
        self.config = config
        self._ready = ready
        self._metrics = metrics
        self._offer = offer
        self.web_root = web_root or config.web_root or default_web_root()
        self._webrtc = webrtc

    def __call__(self, connection: ServerConnection, request: Request) -> Response | Awaitable[Response] | None:
        path = urlsplit(request.path).path
        if path == STREAM_PATH:
            return self._check_upgrade(connection, request)
        if path == OFFER_PATH:
            return self._webrtc_offer(connection, request)
        if path == "/healthz":
            return text(200, "OK", "ok\n")
        if path == "/readyz":
            return text(200, "OK", "ready\n") if self._ready() else text(503, "Service Unavailable", "loading\n")
        if path == "/metrics":
            return _response(200, "OK", self._metrics().encode(), "text/plain; version=0.0.4; charset=utf-8")
        if path == VOICES_PATH:
            return _response(200, "OK", json.dumps(self._offer()).encode(), "application/json")
        if request.headers.get("Upgrade"):
            return text(404, "Not Found", f"WebSocket endpoint is {STREAM_PATH}\n")
        return static_file(self.web_root, path)

    def _webrtc_offer(self, connection: ServerConnection, request: Request) -> Response | Awaitable[Response]:
        """The same Origin and Authorization checks as an upgrade, then the offer's handler."""
        if self._webrtc is None:
            return json_error(404, "not_found", "WebRTC calls are not served here")
        if request.method != "POST":
            return json_error(405, "bad_offer", f"POST the offer to {OFFER_PATH}", {"Allow": "POST"})
        if not origin_ok(request.headers.get("Origin"), request.headers.get("Host"), self.config.allowed_origins):
            return json_error(403, "forbidden", "origin not allowed; add it to server.allowed_origins")
        header = request.headers.get("Authorization")
        if header is not None and not token_ok(self.config.token, bearer(header)):
            return json_error(401, "unauthorized", "invalid token in Authorization header")
        header_auth = header is not None and self.config.token is not None
        body = getattr(connection.protocol, "request_body", None)
        return self._answer(self._webrtc, body, header_auth)

    @staticmethod
    async def _answer(handler: OfferHandler, body: bytes | None, header_auth: bool) -> Response:
        status, answer = await handler(body, header_auth)
        return json_response(status, answer)

    def _check_upgrade(self, connection: ServerConnection, request: Request) -> Response | None:
        if not origin_ok(request.headers.get("Origin"), request.headers.get("Host"), self.config.allowed_origins):
            return text(403, "Forbidden", "origin not allowed; add it to server.allowed_origins\n")
        header = request.headers.get("Authorization")
        header_auth = False
        if header is not None:
            if not token_ok(self.config.token, bearer(header)):
                return text(401, "Unauthorized", "invalid token in Authorization header\n")
            header_auth = self.config.token is not None
        connection.streamvoice_header_auth = header_auth  # type: ignore[attr-defined]
        return None
