"""One client session over a WebSocket: typed events in, audio/text/control out."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Literal

import numpy as np
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from streamvoice.client.controls import Opening, ServerClosed, SessionControls
from streamvoice.protocol import (
    AsrOptions,
    Audio,
    AudioEnd,
    AudioInputOptions,
    Bye,
    ClientFlow,
    ClientMessage,
    ErrorMessage,
    Hello,
    Ready,
    ServerMessage,
    TtsAudio,
    TtsOptions,
    decode_server,
    encode,
)

__all__ = ["ClientSession", "ServerClosed", "connect"]


class ClientSession(SessionControls):
    """Created by :func:`connect`; iterate it for server events (say/cancel/...: :class:`SessionControls`)."""

    def __init__(self, ws: ClientConnection, ready: Ready, credits: Literal["realtime", "instant"]) -> None:
        self.ws = ws
        self.ready = ready
        self.credits = credits
        self._seq = 0
        self._received_ms: dict[int, float] = {}

    @property
    def session_id(self) -> str:
        return self.ready.session

    async def _send(self, message: ClientMessage) -> None:
        await self.ws.send(encode(message))

    async def send_audio(self, audio: bytes | np.ndarray) -> None:
        """PCM bytes in the session's input format, or float32 samples in [-1, 1] (mono)."""
        if isinstance(audio, np.ndarray):
            fmt = self.ready.input_audio
            x = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
            data = (x * 32767).astype("<i2").tobytes() if fmt.encoding == "pcm_s16le" else x.astype("<f4").tobytes()
        else:
            data = audio
        await self._send(Audio(seq=self._seq, data=data))
        self._seq += 1

    async def end_audio(self) -> None:
        await self._send(AudioEnd(seq=self._seq - 1 if self._seq else None))

    async def flow(self, turn: int | None, played_ms: int | None, buffered_ms: int | None = None) -> None:
        await self._send(ClientFlow(turn=turn, played_ms=played_ms, buffered_ms=buffered_ms))

    async def send_raw(self, frame: bytes | str) -> None:
        """Send an arbitrary frame (tests of the server's error handling)."""
        await self.ws.send(frame)

    async def recv(self, timeout: float | None = None) -> ServerMessage:
        """The next server message; raises :class:`ServerClosed` when the session ends."""
        try:
            async with asyncio.timeout(timeout):
                frame = await self.ws.recv()
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            raise ServerClosed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "") from None
        message = decode_server(frame if isinstance(frame, bytes) else frame.encode())
        if isinstance(message, TtsAudio) and self.credits == "instant":
            ms = len(message.data) / (2 if self.ready.output_audio.encoding == "pcm_s16le" else 4)
            ms = ms * 1000 / message.sample_rate
            total = self._received_ms.get(message.turn, 0.0) + ms
            self._received_ms[message.turn] = total
            await self.flow(message.turn, int(total))  # "played" as soon as received
        return message

    async def close(self, reason: str = "") -> None:
        with contextlib.suppress(ConnectionClosed):
            await self._send(Bye(reason=reason))
        await self.ws.close()


async def _open(url: str, k: dict[str, Any]) -> ClientSession:
    headers = {"Authorization": f"Bearer {k['token']}"} if k.get("token") and k.get("token_in_header") else None
    ws = await ws_connect(url, additional_headers=headers, compression=None,
                          max_size=k.get("max_size", 1 << 22), open_timeout=k.get("open_timeout", 10.0))
    hello = Hello(
        token=None if k.get("token_in_header") else k.get("token"),
        asr=k.get("asr") or AsrOptions(),
        tts=k.get("tts") or TtsOptions(),
        audio=k.get("audio") or AudioInputOptions(),
    )
    try:
        await ws.send(encode(hello))
        async with asyncio.timeout(k.get("open_timeout", 10.0)):
            frame = await ws.recv()
    except ConnectionClosed as exc:
        rcvd = exc.rcvd
        raise ServerClosed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "") from None
    reply = decode_server(frame if isinstance(frame, bytes) else frame.encode())
    if isinstance(reply, ErrorMessage):
        await ws.close()
        raise ServerClosed(None, f"{reply.code}: {reply.message}")
    if not isinstance(reply, Ready):
        await ws.close()
        raise ServerClosed(None, f"expected ready, got {reply.type}")
    return ClientSession(ws, reply, k.get("credits", "realtime"))


def connect(
    url: str,
    *,
    token: str | None = None,
    token_in_header: bool = False,
    asr: AsrOptions | None = None,
    tts: TtsOptions | None = None,
    audio: AudioInputOptions | None = None,
    credits: Literal["realtime", "instant"] = "realtime",
    open_timeout: float = 10.0,
) -> Opening[ClientSession]:
    """Open a session: ``async with connect(url) as s`` or ``s = await connect(url)``.

    ``credits="instant"`` reports each audio chunk as played on receipt (file output: the server
    then sends as fast as it synthesizes); ``"realtime"`` sends no reports (the server paces
    audio at real time).
    """
    options = dict(token=token, token_in_header=token_in_header, asr=asr, tts=tts, audio=audio,
                   credits=credits, open_timeout=open_timeout)
    return Opening(lambda: _open(url, options))
