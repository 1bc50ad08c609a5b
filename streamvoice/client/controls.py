"""What every client session does whatever its transport: turns, control messages, event iteration.

The WebSocket session and the WebRTC call speak the same protocol v1 messages (PROTOCOL.md §5,
§13.3); only how a message travels differs. A transport implements :meth:`SessionControls._send`
and :meth:`SessionControls.recv`, and gets ``say``/``say_stream``/``cancel``/``configure``/``ping``,
``async for event in session`` and ``async with`` from here, so both behave the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine, Generator
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from streamvoice.protocol import AsrOptions, Cancel, ClientMessage, Configure, Ping, ServerMessage, Text, TtsOptions


class ServerClosed(Exception):
    """The server closed the session; ``code`` and ``reason`` are its close frame (None on a call)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"server closed the session ({code}: {reason})")
        self.code = code
        self.reason = reason


class SessionControls:
    """The transport-independent half of a client session (see the module docstring)."""

    _turn: int = 0

    async def _send(self, message: ClientMessage) -> None:
        raise NotImplementedError

    async def recv(self, timeout: float | None = None) -> ServerMessage:
        """The next server message; raises :class:`ServerClosed` when the session ends."""
        raise NotImplementedError

    async def close(self, reason: str = "") -> None:
        raise NotImplementedError

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
        """Stop speaking ``turn`` (None: every turn); its queued audio is dropped, not played."""
        await self._send(Cancel(turn=turn))

    async def configure(self, asr: AsrOptions | None = None, tts: TtsOptions | None = None) -> None:
        await self._send(Configure(asr=asr, tts=tts))

    async def ping(self, id: int = 0) -> None:
        await self._send(Ping(id=id))

    def __aiter__(self) -> AsyncIterator[ServerMessage]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ServerMessage]:
        while True:
            try:
                yield await self.recv()
            except ServerClosed:
                return

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


S = TypeVar("S", bound=SessionControls)


class Opening(Generic[S]):
    """What ``connect`` returns: ``await`` it for the session, or ``async with`` it (closed on exit)."""

    def __init__(self, open_: Callable[[], Coroutine[Any, Any, S]]) -> None:
        self._open = open_
        self.session: S | None = None

    def __await__(self) -> Generator[Any, None, S]:
        return self._open().__await__()

    async def __aenter__(self) -> S:
        self.session = await self._open()
        return self.session

    async def __aexit__(self, *exc: object) -> None:
        if self.session is not None:
            await self.session.close()
