"""An aiortc peer for the tests: POSTs its offer to a real server, records what comes back.

It sends a clip (or silence) on its microphone track at real time, keeps every decoded frame of
the server's track with its arrival time and level, and every data-channel message decoded with
the protocol's own decoder.
"""

from __future__ import annotations

import asyncio
import fractions
import json
import time
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
import pytest
from aioice.ice import get_host_addresses
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streamvoice.protocol.codec import decode_server, encode
from streamvoice.protocol.messages import ClientMessage, ServerMessage

RATE = 48_000
FRAME = 960

#: aioice gathers host candidates on every address but 127.0.0.1 / ::1: a machine with only a loopback
#: interface cannot make a call, even to itself (say so rather than fail on ICE)
needs_interface = pytest.mark.skipif(
    not get_host_addresses(use_ipv4=True, use_ipv6=True),
    reason="no non-loopback network interface: aiortc has no ICE host candidate to call on",
)


async def post(port: int, path: str, body: bytes, headers: dict[str, str] | None = None,
               method: str = "POST") -> tuple[int, dict[str, Any]]:
    """A bare HTTP/1.1 request (the server closes after answering); the status and the JSON body."""
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


class ClipTrack(MediaStreamTrack):
    """A microphone: ``samples`` (float, 48 kHz mono) at real time in 20 ms frames, then silence."""

    kind = "audio"

    def __init__(self, samples: np.ndarray | None = None) -> None:
        super().__init__()
        pcm = np.zeros(0, np.float32) if samples is None else samples
        self.pcm = (np.clip(pcm, -1, 1) * 32767).astype(np.int16)
        self.pos = 0
        self._start: float | None = None
        self._pts = 0

    @property
    def done(self) -> bool:
        return self.pos >= len(self.pcm)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += FRAME
            await asyncio.sleep(max(0.0, self._start + self._pts / RATE - time.monotonic()))
        out = np.zeros(FRAME, np.int16)
        part = self.pcm[self.pos:self.pos + FRAME]
        out[:len(part)] = part
        self.pos += FRAME
        frame = av.AudioFrame.from_ndarray(out.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        return frame


@dataclass
class Heard:
    at: float  # time.monotonic() when the frame was decoded
    pts: int
    rms: float  # of the frame, in [0, 1]
    samples: np.ndarray = field(repr=False)


class RtcClient:
    """One call from the test's side."""

    def __init__(self, mic: MediaStreamTrack | None = None, *, channel: bool = True, audio: bool = True,
                 label: str = "streamvoice") -> None:
        self.pc = RTCPeerConnection()
        self.mic = mic or ClipTrack()
        self.messages: asyncio.Queue[ServerMessage] = asyncio.Queue()
        self.heard: list[Heard] = []
        self.opened = asyncio.Event()
        self.session: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        if audio:
            self.pc.addTransceiver(self.mic, direction="sendrecv")
        self.channel = self.pc.createDataChannel(label) if channel else None
        if self.channel is not None:
            self.channel.on("open", self.opened.set)
            self.channel.on("message", lambda m: self.messages.put_nowait(decode_server(m)))

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self._tasks.append(asyncio.ensure_future(self._record(track)))

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def connect(self, port: int, hello: dict[str, Any] | None = None,
                      headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        """Offer, and on a 200 apply the answer; returns the HTTP status and body."""
        body: dict[str, Any] = {"type": "offer", "sdp": await self.offer()}
        if hello is not None:
            body["hello"] = hello
        status, answer = await post(port, "/v1/webrtc/offer", json.dumps(body).encode(), headers)
        if status == 200:
            self.session = answer["session"]
            await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        return status, answer

    def send(self, message: ClientMessage) -> None:
        assert self.channel is not None
        self.channel.send(encode(message))

    async def next(self, kind: str, timeout: float = 10.0) -> Any:
        """The next message of ``kind`` (others before it are dropped)."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.messages.get()
                if message.type == kind:
                    return message

    async def next_any(self, kinds: tuple[str, ...], timeout: float = 10.0) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                message = await self.messages.get()
                if message.type in kinds:
                    return message

    async def _record(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            pcm = frame.to_ndarray().reshape(-1, len(frame.layout.channels))[:, 0].astype(np.float32) / 32768
            self.heard.append(Heard(time.monotonic(), int(frame.pts or 0), float(np.sqrt(np.mean(pcm**2))), pcm))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.pc.close()
