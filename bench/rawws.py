"""A bare-bones WebSocket client on asyncio streams (tests, ``bench.reliability``): what a client library
would not allow.

It sends any bytes (truncated frames, text frames, oversized frames), may stop reading for as long
as a test likes, and reports each received frame as ``(opcode, payload)``, close frames included,
so the tests see exactly what the server wrote and in which order.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct

import msgpack

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def frame(payload: bytes, opcode: int = BINARY, *, fin: bool = True) -> bytes:
    """One masked client frame."""
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else _mask_fast(payload, mask)
    return head + mask + body


def _mask_fast(payload: bytes, mask: bytes) -> bytes:
    import numpy as np

    reps = (len(payload) + 3) // 4
    key = np.frombuffer(mask * reps, np.uint8)[: len(payload)]
    return (np.frombuffer(payload, np.uint8) ^ key).tobytes()


class RawWs:
    """One connection; ``await RawWs.open(port)`` performs the opening handshake."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int, *, rcvbuf: int | None = None, path: str = "/v1/stream",
                   handshake: bool = True, read_limit: int = 1 << 16) -> RawWs:
        """``rcvbuf``: the socket's receive buffer; ``read_limit``: what asyncio reads ahead of the
        caller (it stops reading the socket at twice that): both small make a client that stops reading."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=read_limit)
        ws = cls(reader, writer)
        if handshake:
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 101"):
                raise ConnectionError(head.split(b"\r\n", 1)[0].decode())
        return ws

    async def send(self, payload: bytes, opcode: int = BINARY) -> None:
        self.writer.write(frame(payload, opcode))
        await self.writer.drain()

    async def send_msg(self, message: dict[str, object]) -> None:
        await self.send(msgpack.packb(message))

    async def write_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_frame(self) -> tuple[int, bytes]:
        """Next frame from the server (unmasked); raises ``asyncio.IncompleteReadError`` at EOF."""
        b0, b1 = await self.reader.readexactly(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        return b0 & 0x0F, await self.reader.readexactly(n)

    async def read_message(self) -> dict[str, object] | tuple[int, str]:
        """A decoded server message, or ``(code, reason)`` for the close frame."""
        while True:
            opcode, payload = await self.read_frame()
            if opcode == BINARY:
                decoded: dict[str, object] = msgpack.unpackb(payload)
                return decoded
            if opcode == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                return code, payload[2:].decode()
            if opcode == PING:
                self.writer.write(frame(payload, PONG))

    async def until_close(self, timeout: float = 10.0) -> tuple[list[dict[str, object]], tuple[int, str] | None]:
        """Every message up to the close frame (None: the connection ended without one)."""
        got: list[dict[str, object]] = []
        try:
            async with asyncio.timeout(timeout):
                while True:
                    item = await self.read_message()
                    if isinstance(item, tuple):
                        return got, item
                    got.append(item)
        except (asyncio.IncompleteReadError, ConnectionError):
            return got, None

    def abort(self) -> None:
        self.writer.transport.abort()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()
