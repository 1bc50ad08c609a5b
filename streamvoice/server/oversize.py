"""An oversized frame gets the protocol's answer, not only the WebSocket library's close.

PROTOCOL.md §9 and §10: a message larger than ``max_frame_bytes`` is answered with ``error``
``frame_too_large`` (fatal) and close 1009 whose reason is the error code, and it is never parsed.
websockets enforces ``max_size`` while reading the frame header (so the payload is never read
into memory, which is what we want) and fails the connection with its own close reason, before
any application code sees the frame. The only place to put the error in front of that close is
the sans-I/O protocol's ``fail``: this subclass writes the error frame, then the close with the
spec's reason. Everything else is websockets' own behaviour.
"""

from __future__ import annotations

from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.frames import CloseCode as WsCloseCode
from websockets.protocol import OPEN
from websockets.server import ServerProtocol

from streamvoice.protocol.codec import encode
from streamvoice.protocol.errors import CloseCode, ErrorCode
from streamvoice.protocol.messages import ErrorMessage


class _FrameLimitProtocol(ServerProtocol):
    """``ServerProtocol`` whose 1009 failure is preceded by the ``frame_too_large`` error."""

    too_large_frame: bytes = b""

    def fail(self, code: WsCloseCode | int, reason: str = "") -> None:
        if code == CloseCode.MESSAGE_TOO_BIG and self.state is OPEN and self.too_large_frame:
            self.send_binary(self.too_large_frame)
            reason = ErrorCode.FRAME_TOO_LARGE.value
        super().fail(code, reason)


def too_large_error(max_frame_bytes: int) -> bytes:
    """The encoded fatal ``error`` sent before close 1009."""
    return encode(ErrorMessage(
        code=ErrorCode.FRAME_TOO_LARGE.value, fatal=True,
        message=f"a message larger than max_frame_bytes ({max_frame_bytes} bytes) was not read; "
                "send smaller messages (audio in 20-100 ms chunks)",
    ))


def frame_limit_connection(max_frame_bytes: int) -> type[ServerConnection]:
    """A ``ServerConnection`` class for ``serve(create_connection=...)`` answering oversized frames."""
    payload = too_large_error(max_frame_bytes)

    class FrameLimitConnection(ServerConnection):
        def __init__(self, protocol: ServerProtocol, *args: Any, **kwargs: Any) -> None:
            protocol.__class__ = _FrameLimitProtocol
            assert isinstance(protocol, _FrameLimitProtocol)
            protocol.too_large_frame = payload
            super().__init__(protocol, *args, **kwargs)

    return FrameLimitConnection
