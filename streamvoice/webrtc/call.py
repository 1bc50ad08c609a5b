"""One WebRTC call: a peer connection feeding a :class:`Session`, and that session's outbox.

Inbound: the data channel's messages pass the same :class:`SessionCore` as WebSocket frames
(decoding, rate limit, state, turn ids) and become typed events; the microphone track becomes
``AudioSamples`` (:mod:`.mic`). The hello was run through the core at offer time, so the call is
READY before the peer connects; ``ready`` waits for the data channel. Outbound: messages are
encoded by the core and sent on the data channel; ``tts_audio`` never goes on the channel but into
the :class:`SpeechTrack`, which reports playback back to the session as ``flow`` (so the credit
pacer and ``heard_text`` follow what really played) and sends each chunk's ``tts_text`` as it
starts playing and a completed turn's ``tts_done`` once its last sample has played.

Bounds: messages waiting for the channel to open (``EARLY_MAX``), bytes unsent in the channel
(``limits.max_queued_bytes``, else ``slow_consumer``), audio queued on the track
(``max_audio_lead_ms`` + a margin, then synthesis waits).
Endings (each ends every task of the call and closes the peer connection):
- the peer goes (ICE failed, connection or data channel closed), or the channel never opens
  within the hello timeout: like a closed socket, everything stops at once;
- the core closes (``bye``, fatal error): what the channel holds is flushed (up to 2 s), then close;
- :meth:`shutdown` (server stopping): finals of open utterances flushed, turns ended, ``bye``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

import msgpack
import numpy as np
from aiortc import RTCDataChannel, RTCPeerConnection
from aiortc.mediastreams import MediaStreamTrack

from streamvoice.config import Config
from streamvoice.engine.engine import SpeechEngine
from streamvoice.protocol.errors import CloseCode, ErrorCode
from streamvoice.protocol.messages import ErrorMessage, ErrorRef, ServerMessage, TtsAudio, TtsDone, TtsText, TtsWord
from streamvoice.protocol.session_core import ServerPolicy, SessionCore, State
from streamvoice.protocol.session_events import (
    AudioReceived,
    CancelRequested,
    Close,
    FlowReported,
    Output,
    Send,
    SessionClosed,
)
from streamvoice.runtime.barge_in import BargeIn
from streamvoice.runtime.events import AudioSamples
from streamvoice.runtime.observe import NullObserver, Observer
from streamvoice.runtime.session import Session
from streamvoice.webrtc.mic import pump_microphone
from streamvoice.webrtc.speech_track import RATE, Chunk, Marker, SpeechTrack

log = logging.getLogger(__name__)

LABEL = "streamvoice"  # the data channel's label (PROTOCOL §13.2)
EARLY_MAX = 256  # messages held until the data channel opens; more: the call fails (slow_consumer)
TRACK_MARGIN_MS = 200  # the track queue's bound above max_audio_lead_ms (the credit pacer is the real bound)
FLUSH_S = 2.0  # how long a closing call waits for the channel to send what it holds
PC_CLOSE_S = 5.0


class RtcCall:
    """A session served over one peer connection; also the session's :class:`Outbox`."""

    def __init__(
        self,
        session_id: str,
        engine: SpeechEngine,
        config: Config,
        policy: ServerPolicy,
        *,
        observer: Observer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.id = session_id
        self.engine = engine
        self.config = config
        self._obs = observer or NullObserver()
        self._clock = clock
        self.core = SessionCore(session_id, clock(), policy)
        self.session = Session(session_id, engine, config, self, on_failure=self._pipeline_failed,
                               observer=self._obs, clock=clock)
        self.track = SpeechTrack(config.server.max_audio_lead_ms + TRACK_MARGIN_MS, on_played=self._played)
        policy_ = self.session.barge_in  # the session's barge-in policy, plus the audio already on the track
        self.session.barge_in = BargeIn(policy_.on_speech_start,
                                        lambda: (policy_.speech_started(), self._silence(None)))
        self.pc: RTCPeerConnection | None = None
        self.channel: RTCDataChannel | None = None
        self._mic: MediaStreamTrack | None = None
        self._early: deque[Send] = deque()
        self._opened = asyncio.Event()
        self._ended = asyncio.Event()
        self._tg: asyncio.TaskGroup | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._deferred: list[tuple[Coroutine[Any, Any, None], str]] = []
        self._ending = False
        self._close: tuple[int, str] | None = None
        self._shutting_down = False
        self._slow = False
        self._open_turns: set[int] = set()  # turns with audio queued whose tts_done is not out yet
        self._caption_seq: dict[int, int] = {}
        self._played_ms: dict[int, float] = {}
        self.hangup_reason = ""

    # -- set-up (at offer time) --------------------------------------------------------------------
    def open(self, hello: dict[str, Any]) -> ErrorMessage | None:
        """Run the offer's hello through the core; the error that refused it, or None (READY)."""
        try:
            frame = msgpack.packb(hello)
        except (OverflowError, TypeError, ValueError) as exc:
            return ErrorMessage(code=ErrorCode.INVALID_FIELD.value, message=f"hello: {exc}", fatal=False)
        outputs = self.core.receive_frame(frame, self._clock())
        if self.core.state is not State.READY:
            return next((o.message for o in outputs if isinstance(o, Send) and isinstance(o.message, ErrorMessage)),
                        ErrorMessage(code=ErrorCode.INTERNAL.value, message="hello refused", fatal=True))
        self._do(outputs)  # ready waits for the channel; SessionStarted makes the pipelines
        return None

    def attach(self, pc: RTCPeerConnection) -> None:
        """Listen to the peer connection (before its remote description is set: the track event comes then)."""
        self.pc = pc

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio" and self._mic is None:
                self._mic = track
                self._spawn(self._pump(track), "mic")

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            self._channel_opened(channel)

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                self._lost(f"peer connection {pc.connectionState}")

    def pc_add_track(self) -> None:
        """Send the speech track on the offer's audio transceiver (after the remote description)."""
        assert self.pc is not None
        self.pc.addTrack(self.track)

    # -- lifecycle ---------------------------------------------------------------------------------
    async def run(self) -> None:
        """Serve the call until it ends; returns when every task of it is gone and the peer is closed."""
        try:
            async with asyncio.TaskGroup() as tg:
                self._tg = tg
                deferred, self._deferred = self._deferred, []
                for coro, name in deferred:
                    self._spawn(coro, name)
                self._spawn(self.session.run(), "pipelines")
                self._spawn(self._open_timer(), "open")
        finally:
            self._ending = True
            for coro, _ in self._deferred:
                coro.close()
            self.track.stop()
            self.engine.cancel(self.id)
            await self._close_pc()
            self._ended.set()

    async def shutdown(self, timeout: float) -> None:
        """Graceful stop: finals flushed, turns ended, ``bye`` on the channel, then the call closes."""
        if self._shutting_down or self._ended.is_set():
            return
        self._shutting_down = True
        if self.core.state is State.READY and self.channel is not None:
            try:
                async with asyncio.timeout(max(0.1, timeout - 0.5)):
                    await self.session.finish()
            except TimeoutError:
                log.warning("call %s: shutdown flush timed out", self.id)
        self._do(self.core.shutdown())
        try:
            async with asyncio.timeout(max(0.1, min(FLUSH_S + PC_CLOSE_S, timeout))):
                await self._ended.wait()
        except TimeoutError:
            self._end()

    async def _close_pc(self) -> None:
        if self.pc is None:
            return
        try:
            async with asyncio.timeout(PC_CLOSE_S):
                await self.pc.close()
        except Exception:  # a peer that cannot be closed cleanly is dropped anyway
            log.warning("call %s: closing the peer connection failed", self.id, exc_info=True)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        if self._ending:
            coro.close()
            return
        if self._tg is None:  # run() has not started yet: it starts these first
            self._deferred.append((coro, name))
            return
        task = self._tg.create_task(coro, name=f"{name}-{self.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _end(self) -> None:
        """Cancel every task of the call (run() then closes the peer connection)."""
        self._ending = True
        for task in list(self._tasks):
            task.cancel()

    def _lost(self, why: str) -> None:
        """The peer went away: like a closed socket, everything stops now (nothing can reach it)."""
        if self._ending:
            return
        self.hangup_reason = self.hangup_reason or why
        log.info("call %s: %s", self.id, why)
        self._do(self.core.connection_lost())
        self._end()

    def _pipeline_failed(self, what: str) -> None:
        self._do(self.core.fail(ErrorCode.INTERNAL, f"{what} failed on the server; call again"))

    async def _open_timer(self) -> None:
        """The data channel must open within the hello timeout, or the call is dropped."""
        limit = self.core.policy.hello_timeout_s
        try:
            async with asyncio.timeout(limit):
                await self._opened.wait()
        except TimeoutError:
            self._lost(f"the data channel did not open within {limit:g} s")

    async def _pump(self, track: MediaStreamTrack) -> None:
        """The microphone until its track ends; a frame that cannot be decoded fails this call only."""
        try:
            await pump_microphone(track, self._deliver)
        except Exception:
            log.exception("call %s: the microphone track failed", self.id)
            self._pipeline_failed("the microphone track")

    def _deliver(self, samples: AudioSamples) -> None:
        if self.core.state is State.READY and not self._ending:
            self.session.handle(samples)

    async def _close_after_flush(self) -> None:
        self.hangup_reason = self.hangup_reason or (self._close[1] if self._close else "closed")
        channel = self.channel
        if channel is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_S):
                    while channel.readyState == "open" and channel.bufferedAmount > 0:
                        await asyncio.sleep(0.02)
            await asyncio.sleep(0.05)  # the SCTP layer hands the last chunk to DTLS
            channel.close()
        self._end()

    # -- the data channel --------------------------------------------------------------------------
    def _channel_opened(self, channel: RTCDataChannel) -> None:
        if channel.label != LABEL or self.channel is not None:
            log.info("call %s: data channel %r refused (one %r per call)", self.id, channel.label, LABEL)
            channel.close()
            return
        self.channel = channel
        channel.on("message", self._on_message)
        channel.on("close", lambda: self._lost("data channel closed"))
        self._opened.set()
        early, self._early = list(self._early), deque()
        for send in early:
            self._send(send)

    def _on_message(self, message: bytes | str) -> None:
        """One data channel message (called by aiortc's SCTP task: a failure here must not reach it)."""
        started = self._clock()
        self._obs.frame_in("text" if isinstance(message, str) else "binary")
        try:
            self._do(self.core.receive_frame(message, started))
        except Exception:
            log.exception("call %s: handling a data channel message failed", self.id)
            self._pipeline_failed("handling a message")
        self._obs.routing_delay(self._clock() - started)

    def _send(self, send: Send) -> None:
        if send.message.type == "error":
            self._obs.error(getattr(send.message, "code", "error"))
        channel = self.channel
        if channel is None:
            if len(self._early) >= EARLY_MAX:
                self._slow_consumer(f"{EARLY_MAX} messages wait for a data channel that has not opened")
                return
            self._early.append(send)
            return
        if channel.readyState != "open":
            return
        limit = self.core.policy.limits.max_queued_bytes
        if channel.bufferedAmount + len(send.data) > limit and not self._slow:
            self._slow_consumer(f"{channel.bufferedAmount} bytes wait unsent in the data channel "
                                f"(limits.max_queued_bytes {limit}): the client does not read")
            return
        channel.send(send.data)
        self._obs.frame_out(send.message.type)

    def _slow_consumer(self, why: str) -> None:
        """Stop producing and close with ``slow_consumer`` (the error goes past the bound, alone)."""
        if self._slow or self._ending:
            return
        self._slow = True
        log.info("call %s: %s; closing as slow consumer", self.id, why)
        self.session.stop()
        self.engine.cancel(self.id)
        self._do(self.core.fail(ErrorCode.SLOW_CONSUMER, why))

    # -- what the core returns ---------------------------------------------------------------------
    def _do(self, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, Send):
                self._send(out)
            elif isinstance(out, Close):
                self._start_close(out.code, out.reason)
            elif isinstance(out, AudioReceived):  # audio travels on the track, never on the channel
                self._do(self.core.send(ErrorMessage(
                    code=ErrorCode.UNKNOWN_TYPE.value, fatal=False, ref=ErrorRef(type="audio", seq=out.seq),
                    message="audio messages are not used in a WebRTC call: the microphone is the audio track",
                )))
            elif isinstance(out, FlowReported):
                pass  # the server paces the track itself and reports its playback (PROTOCOL §13.4)
            else:
                if isinstance(out, CancelRequested):
                    self._silence(out.turn)
                self.session.handle(out)
                if isinstance(out, SessionClosed):
                    self._end()

    def _start_close(self, code: int, reason: str) -> None:
        if self._close is not None:
            return
        self._close = (code, reason)
        if code not in (CloseCode.NORMAL, CloseCode.GOING_AWAY):
            self.session.stop()
        self._silence(None)
        self._spawn(self._close_after_flush(), "close")

    # -- the session's outbox ----------------------------------------------------------------------
    def put(self, message: ServerMessage) -> None:
        if self.core.state is not State.READY:
            return
        if isinstance(message, TtsDone):
            outputs = self.core.send(message)
            if message.status == "complete" and message.turn in self._open_turns:
                self.track.mark(Marker(message.turn, lambda: self._turn_over(message.turn, outputs),
                                       lambda: self._turn_cut(message)))
            else:
                self._turn_over(message.turn, outputs)
            return
        self._do(self.core.send(message))

    async def put_audio(self, message: TtsAudio) -> None:
        if self.core.state is not State.READY or self._ending:
            return
        self.core.send(message)  # the core learns the turn (a server-opened turn numbers the next ones); not sent
        if message.sample_rate != RATE:  # the hello fixed 48 kHz s16 (offer.webrtc_hello); never otherwise
            log.error("call %s: tts audio at %d Hz dropped (the track is %d Hz)", self.id, message.sample_rate, RATE)
            return
        self._open_turns.add(message.turn)
        pcm = np.frombuffer(message.data, "<i2")
        await self.track.put(Chunk(message.turn, pcm, float(message.offset_ms), on_start=self._caption(message)))

    def purge_audio(self, turn: int) -> int:
        return self._silence(turn)

    # -- the track's side --------------------------------------------------------------------------
    def _silence(self, turn: int | None) -> int:
        """Drop queued audio of ``turn`` (None: every turn); a completed turn cut short says so."""
        dropped, markers = self.track.purge(turn)
        for marker in markers:
            marker.cut()
        return dropped

    def _caption(self, message: TtsAudio) -> Callable[[int], None] | None:
        """``tts_text`` for a chunk that starts a sentence or carries words, sent when it starts playing."""
        if not message.text and not message.words:
            return None

        def started(track_ms: int) -> None:
            seq = self._caption_seq.get(message.turn, 0)
            self._caption_seq[message.turn] = seq + 1
            shift = track_ms - message.offset_ms
            words = [TtsWord(word=w.word, start_ms=max(0, w.start_ms + shift), end_ms=max(0, w.end_ms + shift))
                     for w in message.words or ()]
            if self.core.state is State.READY:
                self._do(self.core.send(TtsText(turn=message.turn, seq=seq, text=message.text,
                                                offset_ms=message.offset_ms, track_ms=track_ms,
                                                words=words or None)))
        return started

    def _played(self, turn: int, played_ms: float) -> None:
        """A frame of ``turn`` went out: the session's credit pacer hears it as the client's ``flow``."""
        self._played_ms[turn] = played_ms
        if turn in self._open_turns and not self._ending:
            self.session.handle(FlowReported(turn, int(played_ms), None))

    def _turn_over(self, turn: int, outputs: list[Output]) -> None:
        self._open_turns.discard(turn)
        self._caption_seq.pop(turn, None)
        self._played_ms.pop(turn, None)
        self._do(outputs)

    def _turn_cut(self, done: TtsDone) -> None:
        """A turn whose synthesis had completed was cut on the track (a cancel): its tts_done says cancelled."""
        played = int(self._played_ms.get(done.turn, 0.0))
        cut = done.model_copy(update={"status": "cancelled", "played_ms": played, "heard_words": None,
                                      "heard_text": None})
        self._turn_over(done.turn, self.core.send(cut) if self.core.state is State.READY else [])
