"""The client's peer connection and its signalling (PROTOCOL.md §13.1, §13.2), without session logic.

:class:`RtcPeer` builds the offer the server accepts (one ``sendrecv`` audio transceiver carrying
the microphone, a data channel ``streamvoice`` made before the offer), applies the answer and
collects what comes back: data channel messages decoded as server messages, the speech track as
:class:`~streamvoice.client.rtc_audio.RemoteAudio`. :func:`post_json` is the one HTTP request a call
needs; a bare HTTP/1.1 client keeps the client free of an HTTP library for a single POST.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from streamvoice.client.rtc_audio import MicTrack, RemoteAudio
from streamvoice.protocol import ClientMessage, ProtocolError, ServerMessage, decode_server, encode

log = logging.getLogger(__name__)

OFFER_PATH = "/v1/webrtc/offer"  # PROTOCOL §13.1
LABEL = "streamvoice"  # the data channel's label (§13.2)
MAX_ANSWER_BYTES = 1 << 20
# Data channel messages not yet read by the application. The channel pushes them (no backpressure as
# on a WebSocket), so beyond this the oldest are dropped and counted: a client this far behind has
# stopped reading, and memory must not grow with the call.
MAX_UNREAD_MESSAGES = 10_000


def offer_url(url: str) -> str:
    """``http(s)://host:port[/path]`` or the server's ``ws(s)://`` stream URL -> the offer URL.

    A URL without a path, or with the WebSocket stream path, gets :data:`OFFER_PATH`; any other
    path (a reverse proxy's prefix) is used as it is.
    """
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    if scheme not in ("http", "https"):
        raise ValueError(f"a call needs an http(s):// or ws(s):// URL, got {url!r}")
    path = parts.path
    if path in ("", "/") or path.endswith("/v1/stream"):
        path = path.removesuffix("/v1/stream").rstrip("/") + OFFER_PATH
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


async def post_json(url: str, body: dict[str, Any], headers: dict[str, str] | None = None,
                    timeout: float = 30.0) -> tuple[int, dict[str, Any]]:
    """POST ``body`` as JSON; the status and the JSON answer (``{"raw": text}`` if it is not JSON)."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if https else 80)
    data = json.dumps(body).encode()
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    head = [f"POST {target} HTTP/1.1", f"Host: {parts.netloc}", "Content-Type: application/json",
            f"Content-Length: {len(data)}", "Connection: close", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(host, port, ssl=ssl.create_default_context() if https else None)
        try:
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
            await writer.drain()
            raw = b""
            while chunk := await reader.read(1 << 16):  # the server closes after answering
                raw += chunk
                if len(raw) > MAX_ANSWER_BYTES:
                    raise ValueError("the answer is larger than 1 MiB")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
    status_line, _, rest = raw.partition(b"\r\n")
    _, _, payload = rest.partition(b"\r\n\r\n")
    status = int(status_line.split()[1])
    try:
        answer = json.loads(payload)
    except ValueError:
        return status, {"raw": payload.decode(errors="replace")}
    return status, answer if isinstance(answer, dict) else {"raw": answer}


def ice_configuration(ice_servers: Sequence[str | RTCIceServer]) -> RTCConfiguration:
    """STUN/TURN servers as given; none: host candidates only (not aiortc's public STUN default)."""
    return RTCConfiguration(iceServers=[s if isinstance(s, RTCIceServer) else RTCIceServer(urls=s)
                                        for s in ice_servers])


class RtcPeer:
    """One peer connection set up as a call needs it; see the module docstring.

    ``audio=False`` / ``channel=False`` / another ``label`` build offers a server refuses (tests).
    """

    def __init__(self, mic: MediaStreamTrack | None = None, *, ice_servers: Sequence[str | RTCIceServer] = (),
                 max_buffered_frames: int = 500, label: str = LABEL, audio: bool = True,
                 channel: bool = True) -> None:
        self.pc = RTCPeerConnection(ice_configuration(ice_servers))
        self.mic = mic if mic is not None else MicTrack()
        self.messages: asyncio.Queue[ServerMessage | None] = asyncio.Queue(MAX_UNREAD_MESSAGES)  # None: ended
        self.messages_dropped = 0
        self.audio = RemoteAudio(max_buffered_frames)
        self.opened = asyncio.Event()
        self.ended = ""  # why the call ended, once it has
        if audio:
            self.pc.addTransceiver(self.mic, direction="sendrecv")
        self.channel = self.pc.createDataChannel(label) if channel else None
        if self.channel is not None:
            self.channel.on("open", self.opened.set)
            self.channel.on("message", self._on_message)
            self.channel.on("close", lambda: self._end("the data channel closed"))

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                self.audio.attach(track)

        @self.pc.on("connectionstatechange")
        def on_state() -> None:
            if self.pc.connectionState in ("failed", "closed"):
                self._end(f"the peer connection {self.pc.connectionState}")

    def _on_message(self, message: bytes | str) -> None:
        try:
            decoded = decode_server(message if isinstance(message, bytes) else message.encode())
        except ProtocolError as exc:
            log.warning("a data channel message could not be decoded: %s", exc)
            return
        self._put(decoded)

    def _end(self, why: str) -> None:
        if not self.ended:
            self.ended = why
            self._put(None)

    def _put(self, message: ServerMessage | None) -> None:
        if self.messages.full():
            self.messages.get_nowait()
            self.messages_dropped += 1
            if self.messages_dropped == 1:
                log.warning("%d server messages unread: dropping the oldest (read the call's events)",
                            MAX_UNREAD_MESSAGES)
        self.messages.put_nowait(message)

    async def offer(self) -> str:
        """The offer's SDP with every candidate gathered (no trickle ICE)."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept(self, answer_sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(answer_sdp, "answer"))

    def send(self, message: ClientMessage) -> None:
        if self.channel is None or self.channel.readyState != "open":
            raise ConnectionError(f"the data channel is not open ({self.ended or 'not yet'})")
        self.channel.send(encode(message))

    async def flush(self, timeout: float = 1.0) -> None:
        """Wait until the data channel has handed what it holds to the network."""
        channel = self.channel
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while channel is not None and channel.readyState == "open" and channel.bufferedAmount > 0:
                    await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # the SCTP layer hands the last chunk to DTLS

    async def close(self) -> None:
        self._end("closed by the client")
        self.mic.stop()
        await self.audio.close()
        await self.pc.close()
