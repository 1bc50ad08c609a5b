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
- a client that does not read (PROTOCOL §8.2): the socket takes no byte for ``limits.max_unread_ms``
  while output waits, or more than ``limits.max_queued_bytes`` wait unsent (lanes plus the socket
  writer's buffer), or a lane overflows -> the pipelines stop (no more synthesis), queued frames
  are dropped, and ``error`` ``slow_consumer`` then close 4008 are queued behind what the socket
  already holds; a client that resumes reading within ``linger_s`` still reads both, after that
  the connection is dropped. Memory stays bounded by the lanes and the writer's buffer throughout.
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
    def buffered(self) -> int: ...  # bytes accepted by send() not yet handed to the OS
    async def send_last(self, data: bytes, code: int, reason: str, linger_s: float) -> None:
        """Send ``data`` and close behind everything unsent, waiting at most ``linger_s``; then abort."""
        ...


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
        linger_s: float = 60.0,
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
        self._linger_s = linger_s
        self._slow = False
        self._ending = False
        self._writer_task: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    async def run(self) -> None:
        """Serve the connection until it ends; returns when every task of it is gone."""
        try:
            async with asyncio.TaskGroup() as tg:
                self._tg = tg
                self._spawn(self._reader(), "reader")
                self._writer_task = self._spawn(self._writer(), "writer")
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

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        assert self._tg is not None, "tasks are spawned only while run() holds the task group"
        task: asyncio.Task[None] = self._tg.create_task(coro, name=f"{name}-{self.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _end(self) -> None:
        """Cancel every task of the session (the task group then exits)."""
        self._ending = True  # nothing new is spawned after this: a late task would keep the group open
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
        timeout = self.core.policy.limits.max_unread_ms / 1000.0
        while True:
            item = await self.lanes.get()
            if item is None:
                break
            try:
                async with asyncio.timeout(timeout):
                    await self.transport.send(item.data)
            except TimeoutError:
                log.info("session %s: client did not read for %.1f s; closing", self.id, timeout)
                self._slow_consumer(f"the client read nothing for {timeout:g} s (limits.max_unread_ms)")
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
            self._slow_consumer(f"{exc}: the client does not read")
        else:
            self._check_queued()
        if send.message.type == "error":
            self._obs.error(getattr(send.message, "code", "error"))

    def _check_queued(self) -> None:
        """Bytes waiting for this client past ``limits.max_queued_bytes``: it is a slow consumer."""
        limit = self.core.policy.limits.max_queued_bytes
        queued = self.lanes.bytes + self.transport.buffered()
        if queued > limit and not self._slow:
            log.info("session %s: %d bytes unsent; closing as slow consumer", self.id, queued)
            self._slow_consumer(f"{queued} bytes wait unsent (limits.max_queued_bytes {limit}): "
                                "the client does not read")

    def _slow_consumer(self, why: str) -> None:
        """Stop producing, drop what is queued, and send ``slow_consumer`` + 4008 behind what the socket holds."""
        if self._slow or self._ending or self._ended.is_set() or self._tg is None:
            if not self._slow:
                self.transport.abort()
            return
        self._slow = True
        self._obs.error(ErrorCode.SLOW_CONSUMER.value)
        self._close = (CloseCode.SLOW_CONSUMER, ErrorCode.SLOW_CONSUMER.value)
        self.session.stop()  # no more synthesis for a client that does not read
        self.engine.cancel(self.id)
        error = next((o.data for o in self.core.fail(ErrorCode.SLOW_CONSUMER, why) if isinstance(o, Send)), None)
        self.lanes.close(drop_pending=True)
        self.lanes.clear()
        self._spawn(self._last_words(error), "slow")

    async def _last_words(self, error: bytes | None) -> None:
        """The writer stops; the error and the close wait for the client behind the unread bytes."""
        writer = self._writer_task
        if writer is not None and writer is not asyncio.current_task() and not writer.done():
            writer.cancel()  # a frame blocked in send() is already whole in the socket's buffer
            await asyncio.gather(writer, return_exceptions=True)
        if error is None:
            self.transport.abort()
        else:
            await self.transport.send_last(error, CloseCode.SLOW_CONSUMER, ErrorCode.SLOW_CONSUMER.value,
                                           self._linger_s)
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
                self._check_queued()

    def purge_audio(self, turn: int) -> int:
        return self.lanes.purge_turn(turn)
