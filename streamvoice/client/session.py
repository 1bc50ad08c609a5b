"""One client session over a WebSocket: typed events in, audio/text/control out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator
from types import TracebackType
from typing import Any, Literal

import numpy as np
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from streamvoice.protocol import (
    AsrOptions,
    Audio,
    AudioEnd,
    AudioInputOptions,
    Bye,
    Cancel,
    ClientFlow,
    ClientMessage,
    Configure,
    ErrorMessage,
    Hello,
    Ping,
    Ready,
    ServerMessage,
    Text,
    TtsAudio,
    TtsOptions,
    decode_server,
    encode,
)


class ServerClosed(Exception):
    """The server closed the session; ``code`` and ``reason`` are its close frame."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"server closed the session ({code}: {reason})")
        self.code = code
        self.reason = reason


class ClientSession:
    """Created by :func:`connect`; iterate it for server events."""

    def __init__(self, ws: ClientConnection, ready: Ready, credits: Literal["realtime", "instant"]) -> None:
        self.ws = ws
        self.ready = ready
        self.credits = credits
        self._seq = 0
        self._turn = 0
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

    async def say(self, text: str) -> int:
        """Speak ``text`` as one turn; returns the turn id."""
        self._turn += 1
        await self._send(Text(text=text, final=True, turn=self._turn))
        return self._turn

    async def say_stream(self, deltas: AsyncIterable[str]) -> int:
        """Speak text as it arrives (e.g. LLM tokens); the turn ends when the iterable does."""
        self._turn += 1
        turn = self._turn
        async for delta in deltas:
            if delta:
                await self._send(Text(text=delta, final=False, turn=turn))
        await self._send(Text(text="", final=True, turn=turn))
        return turn

    async def cancel(self, turn: int | None = None) -> None:
        await self._send(Cancel(turn=turn))

    async def flow(self, turn: int | None, played_ms: int | None, buffered_ms: int | None = None) -> None:
        await self._send(ClientFlow(turn=turn, played_ms=played_ms, buffered_ms=buffered_ms))

    async def configure(self, asr: AsrOptions | None = None, tts: TtsOptions | None = None) -> None:
        await self._send(Configure(asr=asr, tts=tts))

    async def ping(self, id: int = 0) -> None:
        await self._send(Ping(id=id))

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

    def __aiter__(self) -> AsyncIterator[ServerMessage]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ServerMessage]:
        while True:
            try:
                yield await self.recv()
            except ServerClosed:
                return

    async def close(self, reason: str = "") -> None:
        with contextlib.suppress(ConnectionClosed):
            await self._send(Bye(reason=reason))
        await self.ws.close()

    async def __aenter__(self) -> ClientSession:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class _Connector:
    def __init__(self, url: str, kwargs: dict[str, Any]) -> None:
        self.url = url
        self.kwargs = kwargs
        self.session: ClientSession | None = None

    def __await__(self) -> Any:
        return self._open().__await__()

    async def _open(self) -> ClientSession:
        k = self.kwargs
        headers = {"Authorization": f"Bearer {k['token']}"} if k.get("token") and k.get("token_in_header") else None
        ws = await ws_connect(self.url, additional_headers=headers, compression=None,
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

    async def __aenter__(self) -> ClientSession:
        self.session = await self._open()
        return self.session

    async def __aexit__(self, *exc: object) -> None:
        if self.session is not None:
            await self.session.close()


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
) -> _Connector:
    """Open a session: ``async with connect(url) as s`` or ``s = await connect(url)``.

    ``credits="instant"`` reports each audio chunk as played on receipt (file output: the server
    then sends as fast as it synthesizes); ``"realtime"`` sends no reports (the server paces
    audio at real time).
    """
    return _Connector(url, dict(token=token, token_in_header=token_in_header, asr=asr, tts=tts, audio=audio,
                                credits=credits, open_timeout=open_timeout))
