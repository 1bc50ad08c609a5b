"""One connection = one Session = one task group. When it ends, every task and buffer is gone.

Tasks: reader (frames -> session core -> router), writer (lanes -> socket, with the slow-client
timeout), hello timer, and -- once ``hello`` is accepted -- the ASR and TTS pipelines.
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

from streamvoice.asr.options import StreamOptions
from streamvoice.config import Config
from streamvoice.engine.engine import SpeechEngine
from streamvoice.protocol.errors import CloseCode, ErrorCode
from streamvoice.protocol.messages import Lane, ServerMessage, TtsAudio
from streamvoice.protocol.session_core import ServerPolicy, SessionCore, State
from streamvoice.protocol.session_events import (
    AudioEnded,
    AudioReceived,
    CancelRequested,
    ClientBye,
    Close,
    FlowReported,
    OptionsChanged,
    Output,
    Send,
    SessionClosed,
    SessionStarted,
    TextReceived,
)
from streamvoice.runtime.asr_pipeline import AsrPipeline, stream_options
from streamvoice.runtime.credits import CreditPacer
from streamvoice.runtime.lanes import LaneOverflow, OutboundLanes, Outgoing
from streamvoice.runtime.observe import NullObserver, Observer
from streamvoice.runtime.router import route
from streamvoice.runtime.tts_pipeline import TtsPipeline

log = logging.getLogger(__name__)


class TransportClosed(Exception):
    """The socket is gone."""


class Transport(Protocol):
    """The socket as the session sees it (the server adapts a websockets connection)."""

    async def recv(self) -> bytes | str: ...  # raises TransportClosed
    async def send(self, data: bytes) -> None: ...  # raises TransportClosed
    async def close(self, code: int, reason: str) -> None: ...
    def abort(self) -> None: ...


class Session:
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
        self.asr: AsrPipeline | None = None
        self.tts: TtsPipeline | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._tg: asyncio.TaskGroup | None = None
        self._close: tuple[int, str] | None = None
        self._ended = asyncio.Event()
        self._shutting_down = False
        self.barge_in_on_speech = config.server.vad_barge_in

    # -- lifecycle -------------------------------------------------------------------------------
    async def run(self) -> None:
        """Serve the connection until it ends; returns when every task of it is gone."""
        try:
            async with asyncio.TaskGroup() as tg:
                self._tg = tg
                self._spawn(self._reader(), "reader")
                self._spawn(self._writer(), "writer")
                self._spawn(self._hello_timer(), "hello")
        finally:
            self._ended.set()
            self.lanes.close(drop_pending=True)
            self.engine.cancel(self.id)

    async def shutdown(self, timeout: float) -> None:
        """Graceful stop: finals flushed, turns ended, bye, close 1001 (bounded by ``timeout``)."""
        if self._shutting_down or self._ended.is_set():
            return
        self._shutting_down = True
        if self.core.state is not State.READY:  # already closing (bye, error) or no hello yet
            self._do(self.core.shutdown())
            try:
                async with asyncio.timeout(max(0.1, min(2.0, timeout))):
                    await self._ended.wait()
            except TimeoutError:
                self.transport.abort()
                self._end()
            return
        try:
            async with asyncio.timeout(max(0.1, timeout - 0.5)):
                if self.asr is not None:
                    await self.asr.finish()
                    await self._wait_task("asr")
                if self.tts is not None:
                    self.tts.shutdown()
                await self.lanes.wait_empty()
        except TimeoutError:
            log.warning("session %s: shutdown flush timed out", self.id)
        self._do(self.core.shutdown())
        try:
            async with asyncio.timeout(1.0):
                await self._ended.wait()
        except TimeoutError:
            self.transport.abort()
            self._end()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        assert self._tg is not None
        task: asyncio.Task[None] = self._tg.create_task(coro, name=f"{name}-{self.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _wait_task(self, name: str) -> None:
        for task in list(self._tasks):
            if task.get_name() == f"{name}-{self.id}":
                await asyncio.gather(task, return_exceptions=True)

    def _end(self) -> None:
        """Cancel every task of the session (the task group then exits)."""
        self.lanes.close(drop_pending=True)
        for task in list(self._tasks):
            task.cancel()

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
                self._obs.error(ErrorCode.SLOW_CONSUMER.value)
                self._close = (CloseCode.SLOW_CONSUMER, ErrorCode.SLOW_CONSUMER.value)
                self.core.fail(ErrorCode.SLOW_CONSUMER, "client stopped reading")
                self.transport.abort()
                self._end()
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

    # -- outputs of the core ----------------------------------------------------------------------
    def _do(self, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, Send):
                self._queue(out)
            elif isinstance(out, Close):
                self._start_close(out.code, out.reason)
            else:
                route(out, self)

    def _queue(self, send: Send) -> None:
        turn = getattr(send.message, "turn", None)
        try:
            self.lanes.put(Outgoing(send.lane, send.data, send.message.type, turn))
        except LaneOverflow as exc:
            log.info("session %s: %s; closing as slow consumer", self.id, exc)
            self._obs.error(ErrorCode.SLOW_CONSUMER.value)
            self._close = (CloseCode.SLOW_CONSUMER, ErrorCode.SLOW_CONSUMER.value)
            self.core.fail(ErrorCode.SLOW_CONSUMER, str(exc))
            self.transport.abort()
            self._end()
        if send.message.type == "error":
            self._obs.error(getattr(send.message, "code", "error"))

    def _start_close(self, code: int, reason: str) -> None:
        if self._close is None:
            self._close = (code, reason)
        graceful = code in (CloseCode.NORMAL, CloseCode.GOING_AWAY)
        if self.tts is not None and not graceful:
            self.tts.shutdown()
        self.lanes.close(drop_pending=not graceful)

    def emit(self, message: ServerMessage) -> None:
        """Queue an application message (transcripts, flow, tts_done, errors)."""
        if self.core.state is not State.READY:
            return
        self._do(self.core.send(message))  # type: ignore[arg-type]
        barge = self.barge_in_on_speech and message.type == "speech" and getattr(message, "event", "") == "start"
        if barge and self.tts is not None:
            self.tts.cancel(None)

    async def emit_audio(self, message: TtsAudio) -> None:
        if self.core.state is not State.READY:
            return
        for out in self.core.send(message):
            if isinstance(out, Send):
                await self.lanes.put_audio(Outgoing(Lane.AUDIO, out.data, "tts_audio", message.turn))

    # -- router targets ------------------------------------------------------------------------------
    def on_started(self, event: SessionStarted) -> None:
        cfg = self.config
        base = StreamOptions.from_config(cfg.asr)
        self.asr = AsrPipeline(
            self.engine, self.id, stream_options(base, event.asr), event.audio, self.emit,
            max_lag_ms=cfg.server.max_asr_lag_ms, observer=self._obs, clock=self._clock,
        )
        pacer = CreditPacer(cfg.server.max_audio_lead_ms)
        self.tts = TtsPipeline(
            self.engine, self.id, event.tts, pacer, self.emit, self.emit_audio,
            frame_ms=cfg.tts.frame_ms, observer=self._obs, clock=self._clock,
        )
        self.tts.set_purge(self.lanes.purge_turn)
        self._spawn(self._guard(self.asr.run(), "asr"), "asr")
        self._spawn(self._guard(self.tts.run(), "tts"), "tts")
        log.info("session %s: ready (v%d)", self.id, event.version)

    async def _guard(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        """A pipeline failing is this session's internal error, never anyone else's."""
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except BaseException:
            log.exception("session %s: %s pipeline failed", self.id, what)
            self._obs.error(ErrorCode.INTERNAL.value)
            self._do(self.core.fail(ErrorCode.INTERNAL, f"{what} failed on the server; reconnect"))

    def on_audio(self, event: AudioReceived) -> None:
        if self.asr is not None:
            try:
                self.asr.push(event.data)
            except ValueError as exc:
                from streamvoice.protocol.messages import ErrorMessage, ErrorRef

                self.emit(ErrorMessage(code=ErrorCode.INVALID_FIELD.value, message=str(exc),
                                       ref=ErrorRef(type="audio", seq=event.seq)))

    def on_audio_end(self, event: AudioEnded) -> None:
        if self.asr is not None:
            self.asr.end_audio()

    def on_text(self, event: TextReceived) -> None:
        if self.tts is not None:
            self.tts.text(event.turn, event.text, event.final)

    def on_cancel(self, event: CancelRequested) -> None:
        if self.tts is not None:
            self.tts.cancel(event.turn)

    def on_flow(self, event: FlowReported) -> None:
        if self.tts is not None:
            self.tts.flow(event.turn, event.played_ms, event.buffered_ms)

    def on_options(self, event: OptionsChanged) -> None:
        if self.asr is not None:
            self.asr.configure(event.asr)
        if self.tts is not None:
            self.tts.configure(event.tts)

    def on_bye(self, event: ClientBye) -> None:
        if self.tts is not None:
            self.tts.shutdown()

    def on_closed(self, event: SessionClosed) -> None:
        self._end()
