"""Lets the one port read the body of ``POST /v1/webrtc/offer``.

websockets parses the HTTP request of every connection and refuses any body (it only expects
WebSocket upgrades). A connection class made by :func:`with_request_bodies` restarts that parser,
before any byte has arrived, with one that reads a ``Content-Length`` body of at most
``max_bytes`` for the given POST paths and stores it in ``protocol.request_body``; every other
request is parsed and answered exactly as websockets does (a body elsewhere is still refused).
"""

from __future__ import annotations

import http
from collections.abc import Generator
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import InvalidMessage
from websockets.http11 import Request, parse_headers, parse_line
from websockets.protocol import CONNECTING, Protocol
from websockets.server import ServerProtocol
from websockets.streams import StreamReader

_cache: dict[type[ServerProtocol], type[ServerProtocol]] = {}


def _reads_bodies(base: type[ServerProtocol]) -> type[ServerProtocol]:
    """``base`` whose request parser reads the body of a POST to one of ``post_paths``."""
    if base in _cache:
        return _cache[base]

    class BodyProtocol(base):  # type: ignore[valid-type,misc]
        post_paths: frozenset[str] = frozenset()
        max_body: int = 0
        request_body: bytes | None = None
        handshake_exc: Exception | None

        def parse(self) -> Generator[None]:
            if self.state is CONNECTING:
                try:
                    request = yield from _read_request(self.reader, self.post_paths, self.max_body, self)
                except _TooLarge as too_large:
                    self.handshake_exc = too_large
                    self.send_response(self.reject(http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"{too_large}\n"))
                    yield
                    return
                except Exception as exc:
                    failure: Exception = InvalidMessage("did not receive a valid HTTP request")
                    failure.__cause__ = exc
                    self.handshake_exc = failure
                    self.send_eof()
                    self.parser = self.discard()
                    next(self.parser)
                    yield
                    return
                self.events.append(request)
            yield from Protocol.parse(self)

    BodyProtocol.__name__ = f"BodyReading{base.__name__}"
    _cache[base] = BodyProtocol
    return BodyProtocol


class _TooLarge(ValueError):
    pass


def _read_request(reader: StreamReader, post_paths: frozenset[str], max_body: int,
                  owner: Any) -> Generator[None, None, Request]:
    """websockets' request parsing, plus a bounded ``Content-Length`` body on ``post_paths``."""
    request_line = yield from parse_line(reader.read_line)  # type: ignore[arg-type]
    raw_method, raw_path, raw_protocol = request_line.split(b" ", 2)
    if raw_protocol not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise ValueError(f"unsupported protocol {raw_protocol!r}")
    method, path = raw_method.decode("ascii"), raw_path.decode("ascii")
    headers = yield from parse_headers(reader.read_line)  # type: ignore[arg-type]
    if "Transfer-Encoding" in headers:
        raise NotImplementedError("transfer codings aren't supported")
    lengths = set(headers.get_all("Content-Length"))
    if method == "POST" and path.split("?", 1)[0] in post_paths and lengths - {"0"}:
        if len(lengths) != 1 or not next(iter(lengths)).isdigit():
            raise ValueError("bad Content-Length")
        size = int(next(iter(lengths)))
        if size > max_body:
            raise _TooLarge(f"the request body is larger than {max_body} bytes")
        if headers.get("Expect", "").lower() == "100-continue":  # curl waits a second for it otherwise
            owner.writes.append(b"HTTP/1.1 100 Continue\r\n\r\n")
        owner.request_body = bytes((yield from reader.read_exact(size)))
    elif not lengths <= {"0"}:
        raise ValueError("unsupported request body")
    return Request(path, headers, method, raw_protocol.decode("ascii"))


def with_request_bodies(connection_class: type[ServerConnection], post_paths: set[str],
                        max_bytes: int) -> type[ServerConnection]:
    """A ``ServerConnection`` class for ``serve(create_connection=...)`` reading bodies on ``post_paths``."""
    paths = frozenset(post_paths)

    class BodyConnection(connection_class):  # type: ignore[valid-type,misc]
        def __init__(self, protocol: ServerProtocol, *args: Any, **kwargs: Any) -> None:
            super().__init__(protocol, *args, **kwargs)
            protocol.__class__ = _reads_bodies(type(protocol))
            protocol.post_paths = paths  # type: ignore[attr-defined]
            protocol.max_body = max_bytes  # type: ignore[attr-defined]
            protocol.parser = protocol.parse()  # nothing has been received yet: start over with ours
            next(protocol.parser)

    return BodyConnection
