"""The WebSocket + msgpack transport of a :class:`~streamvoice.runtime.session.Session`.

One connection = one ``WireSession`` = one task group; when it ends, every task and buffer is gone.
Inbound: frames -> the protocol core (:class:`SessionCore`: decoding, limits, state) -> typed
events (PCM becomes :class:`AudioSamples`) -> ``Session.handle``. Outbound: the session's outbox
is this object: messages pass the core (state, lane) and are encoded into the lanes that one
writer drains to the socket. Tasks: reader, writer, hello timer, and the session's pipelines.
Endings:
- the client goes away (or the socket breaks): everything is cancelled at once;
- the core closes (bye, fatal error): queued frames are flushed (fatal: control only), then the
  socket is closed with the core's code;
- :meth:`shutdown` (server stopping): finals of open utterances are flushed, turns end
  (``tts_done`` cancelled), then ``bye`` and close 1001;
- a client that does not read: the writer times out (``slow_client_timeout_s``) or a lane
  overflows -> close 4008 and abort; memory stays bounded by the lanes meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from streamvoice.audio.pcm import decode_pcm
from streamvoice.config import Config
from streamvoice.engine.engine import SpeechEngine
from streamvoice.protocol.errors import CloseCode, ErrorCode
from streamvoice.protocol.messages import Lane, ServerMessage, TtsAudio
from streamvoice.protocol.session_core import ServerPolicy, SessionCore, State
from streamvoice.protocol.session_events import AudioReceived, Close, Output, Send, SessionClosed
from streamvoice.runtime.events import AudioSamples, Inbound
from streamvoice.runtime.lanes import LaneOverflow, OutboundLanes, Outgoing
from streamvoice.runtime.observe import NullObserver, Observer
from streamvoice.runtime.session import Session

log = logging.getLogger(__name__)


class TransportClosed(Exception):
    """The socket is gone."""


class Transport(Protocol):
    """The socket as the wire session sees it (the server adapts a websockets connection)."""

    async def recv(self) -> bytes | str: ...  # raises TransportClosed
    async def send(self, data: bytes) -> None: ...  # raises TransportClosed
    async def close(self, code: int, reason: str) -> None: ...
    def abort(self) -> None: ...


class WireSession:
    """A session served over one msgpack WebSocket; also the session's :class:`Outbox`."""

    def __init__(
        self,
        session_id: str,
        transport: Transport,
        engine: SpeechEngine,
        config: Config,
        policy: ServerPolicy,
        *,
        observer: Observer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.id = session_id
        self.transport = transport
        self.engine = engine
        self.config = config
        self._obs = observer or NullObserver()
        self._clock = clock
        self.core = SessionCore(session_id, clock(), policy)
        self.lanes = OutboundLanes()
        self.session = Session(session_id, engine, config, self, on_failure=self._pipeline_failed,
                               observer=self._obs, clock=clock)
        self._tasks: set[asyncio.Task[None]] = set()
        self._tg: asyncio.TaskGroup | None = None
        self._close: tuple[int, str] | None = None
        self._ended = asyncio.Event()
        self._shutting_down = False

    # -- lifecycle -------------------------------------------------------------------------------
    async def run(self) -> None:
        """Serve the connection until it ends; returns when every task of it is gone."""
        try:
            async with asyncio.TaskGroup() as tg:
                self._tg = tg
                self._spawn(self._reader(), "reader")
                self._spawn(self._writer(), "writer")
                self._spawn(self._hello_timer(), "hello")
                self._spawn(self.session.run(), "pipelines")
        finally:
            self._ended.set()
            self.lanes.close(drop_pending=True)
            self.engine.cancel(self.id)

    async def shutdown(self, timeout: float) -> None:
        """Graceful stop: finals flushed, turns ended, bye, close 1001 (bounded by ``timeout``)."""
        if self._shutting_down or self._ended.is_set():
            return
        self._shutting_down = True
        if self.core.state is State.READY:
            try:
                async with asyncio.timeout(max(0.1, timeout - 0.5)):
                    await self.session.finish()
                    await self.lanes.wait_empty()
            except TimeoutError:
                log.warning("session %s: shutdown flush timed out", self.id)
        self._do(self.core.shutdown())
        try:
            async with asyncio.timeout(max(0.1, min(2.0, timeout))):
                await self._ended.wait()
        except TimeoutError:
            self.transport.abort()
            self._end()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        assert self._tg is not None, "tasks are spawned only while run() holds the task group"
        task: asyncio.Task[None] = self._tg.create_task(coro, name=f"{name}-{self.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _end(self) -> None:
        """Cancel every task of the session (the task group then exits)."""
        self.lanes.close(drop_pending=True)
        for task in list(self._tasks):
            task.cancel()

    def _pipeline_failed(self, what: str) -> None:
        self._do(self.core.fail(ErrorCode.INTERNAL, f"{what} failed on the server; reconnect"))

    # -- tasks -----------------------------------------------------------------------------------
    async def _reader(self) -> None:
        while True:
            try:
                frame = await self.transport.recv()
            except TransportClosed:
                self._do(self.core.connection_lost())
                self._end()
                return
            started = self._clock()
            self._obs.frame_in("text" if isinstance(frame, str) else "binary")
            self._do(self.core.receive_frame(frame, started))
            self._obs.routing_delay(self._clock() - started)

    async def _writer(self) -> None:
        timeout = self.config.server.slow_client_timeout_s
        while True:
            item = await self.lanes.get()
            if item is None:
                break
            try:
                async with asyncio.timeout(timeout):
                    await self.transport.send(item.data)
            except TimeoutError:
                log.info("session %s: client did not read for %.1f s; closing", self.id, timeout)
                self._slow_consumer("client stopped reading")
                return
            except TransportClosed:
                self._end()
                return
            self._obs.frame_out(item.kind)
        code, reason = self._close or (CloseCode.NORMAL, "")
        try:
            async with asyncio.timeout(2.0):
                await self.transport.close(code, reason)
        except (TimeoutError, TransportClosed):
            self.transport.abort()
        self._end()

    async def _hello_timer(self) -> None:
        while self.core.state is State.CONNECTING:
            deadline = self.core.next_deadline()
            if deadline is None:
                return
            await asyncio.sleep(max(0.0, deadline - self._clock()))
            self._do(self.core.tick(self._clock()))

    # -- what the core returns ---------------------------------------------------------------------
    def _do(self, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, Send):
                self._queue(out)
            elif isinstance(out, Close):
                self._start_close(out.code, out.reason)
            else:
                self.session.handle(self._inbound(out))
                if isinstance(out, SessionClosed):
                    self._end()

    def _inbound(self, event: Any) -> Inbound:
        """The core's event as the session's typed event (PCM bytes become samples)."""
        if isinstance(event, AudioReceived):
            fmt = self.core.audio
            return AudioSamples(decode_pcm(event.data, fmt.encoding, fmt.channels), fmt.sample_rate, event.seq)
        inbound: Inbound = event
        return inbound

    def _queue(self, send: Send) -> None:
        turn = getattr(send.message, "turn", None)
        try:
            self.lanes.put(Outgoing(send.lane, send.data, send.message.type, turn))
        except LaneOverflow as exc:
            log.info("session %s: %s; closing as slow consumer", self.id, exc)
            self._slow_consumer(str(exc))
        if send.message.type == "error":
            self._obs.error(getattr(send.message, "code", "error"))

    def _slow_consumer(self, why: str) -> None:
        self._obs.error(ErrorCode.SLOW_CONSUMER.value)
        self._close = (CloseCode.SLOW_CONSUMER, ErrorCode.SLOW_CONSUMER.value)
        self.core.fail(ErrorCode.SLOW_CONSUMER, why)
        self.transport.abort()
        self._end()

    def _start_close(self, code: int, reason: str) -> None:
        if self._close is None:
            self._close = (code, reason)
        if code not in (CloseCode.NORMAL, CloseCode.GOING_AWAY):
            self.session.stop()
            self.lanes.close(drop_pending=True)
        else:
            self.lanes.close()

    # -- the session's outbox ----------------------------------------------------------------------
    def put(self, message: ServerMessage) -> None:
        if self.core.state is State.READY:
            self._do(self.core.send(message))

    async def put_audio(self, message: TtsAudio) -> None:
        if self.core.state is not State.READY:
            return
        for out in self.core.send(message):
            if isinstance(out, Send):
                await self.lanes.put_audio(Outgoing(Lane.AUDIO, out.data, "tts_audio", message.turn))

    def purge_audio(self, turn: int) -> int:
        return self.lanes.purge_turn(turn)
