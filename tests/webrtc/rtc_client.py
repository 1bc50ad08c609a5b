"""An aiortc peer for the tests, built on the Python client's peer (streamvoice.client.rtc_peer).

It POSTs its offer to a real server and records what comes back: every decoded frame of the
server's track with its arrival time and level (``heard``), every data channel message decoded with
the protocol's own decoder. Unlike ``streamvoice.client.webrtc.connect`` it hands back refused
offers as (status, body) and can build offers a server must refuse.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pytest
from aioice.ice import get_host_addresses
from aiortc.mediastreams import MediaStreamTrack

from streamvoice.client.rtc_audio import RATE, MicTrack, TrackFrame
from streamvoice.client.rtc_peer import OFFER_PATH, RtcPeer, post_json
from streamvoice.protocol.messages import ClientMessage, ServerMessage

FRAME = 960
Heard = TrackFrame  # .at, .pts, .rms and .pcm (float, 48 kHz)

#: aioice gathers host candidates on every address but 127.0.0.1 / ::1: a machine with only a loopback
#: interface cannot make a call, even to itself (say so rather than fail on ICE)
needs_interface = pytest.mark.skipif(
    not get_host_addresses(use_ipv4=True, use_ipv6=True),
    reason="no non-loopback network interface: aiortc has no ICE host candidate to call on",
)


async def post(port: int, path: str, body: bytes, headers: dict[str, str] | None = None,
               method: str = "POST") -> tuple[int, dict[str, Any]]:
    """A bare HTTP/1.1 request with any body and method (the server closes after answering)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json",
            f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    _, _, payload = rest.partition(b"\r\n\r\n")
    status = int(status_line.split()[1])
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, {"raw": payload.decode(errors="replace")}


class ClipTrack(MicTrack):
    """A microphone: ``samples`` (float, 48 kHz mono) at real time in 20 ms frames, then silence."""

    def __init__(self, samples: np.ndarray | None = None) -> None:
        super().__init__()
        self.pcm = np.zeros(0, np.float32) if samples is None else np.asarray(samples, np.float32)
        if self.pcm.size:
            self.feed(self.pcm, RATE)


class RtcClient:
    """One call from the test's side."""

    def __init__(self, mic: MediaStreamTrack | None = None, *, channel: bool = True, audio: bool = True,
                 label: str = "streamvoice") -> None:
        self.peer = RtcPeer(mic or ClipTrack(), label=label, audio=audio, channel=channel)
        self.heard: list[TrackFrame] = []
        self.peer.audio.listeners.append(self.heard.append)
        self.session: str | None = None

    @property
    def pc(self) -> Any:
        return self.peer.pc

    @property
    def mic(self) -> MediaStreamTrack:
        return self.peer.mic

    @property
    def channel(self) -> Any:
        return self.peer.channel

    @property
    def opened(self) -> asyncio.Event:
        return self.peer.opened

    @property
    def messages(self) -> asyncio.Queue[ServerMessage | None]:
        return self.peer.messages

    async def offer(self) -> str:
        return await self.peer.offer()

    async def connect(self, port: int, hello: dict[str, Any] | None = None,
                      headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        """Offer, and on a 200 apply the answer; returns the HTTP status and body."""
        body: dict[str, Any] = {"type": "offer", "sdp": await self.offer()}
        if hello is not None:
            body["hello"] = hello
        status, answer = await post_json(f"http://127.0.0.1:{port}{OFFER_PATH}", body, headers)
        if status == 200:
            self.session = answer["session"]
            await self.peer.accept(answer["sdp"])
        return status, answer

    def send(self, message: ClientMessage) -> None:
        self.peer.send(message)

    async def next(self, kind: str, timeout: float = 10.0) -> Any:
        """The next message of ``kind`` (others before it are dropped)."""
        return await self.next_any((kind,), timeout)

    async def next_any(self, kinds: tuple[str, ...], timeout: float = 10.0) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                message = await self.messages.get()
                if message is None:
                    self.messages.put_nowait(None)
                    raise AssertionError(f"the call ended waiting for {kinds}: {self.peer.ended}")
                if message.type in kinds:
                    return message

    async def close(self) -> None:
        await self.peer.close()
