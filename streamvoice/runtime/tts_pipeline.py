"""Per-session speech synthesis: text deltas -> sentences -> G2P -> engine -> paced audio frames.

Turns play one after another. Within the playing turn a producer synthesizes ahead (at most
``SYNTH_AHEAD`` chunks) while the consumer cuts audio into ``frame_ms`` frames and sends each
when the :class:`CreditPacer` allows, into the audio lane (which waits when the client does
not read). ``cancel`` marks the turn, cancels its task, drops its queued work in the engine and
its queued frames in the lane, then queues ``tts_done{status: cancelled}``: nothing of the turn
can follow it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from streamvoice.audio.pcm import encode_pcm_s16le
from streamvoice.audio.resample import Resampler
from streamvoice.engine.engine import EngineUnavailable, SpeechEngine
from streamvoice.engine.workqueue import QueueFull
from streamvoice.protocol.errors import ErrorCode
from streamvoice.protocol.messages import ErrorMessage, ErrorRef, ServerMessage, TtsAudio, TtsDone, TtsWord
from streamvoice.protocol.options import TtsOptions
from streamvoice.runtime.credits import CreditPacer
from streamvoice.runtime.observe import NullObserver, Observer
from streamvoice.tts.segmenter import Segmenter
from streamvoice.tts.types import SynthesisResult

log = logging.getLogger(__name__)

SYNTH_AHEAD = 2  # chunks synthesized ahead of playback, per turn
MAX_QUEUED_TURNS = 8  # turns waiting to be spoken per session; more are refused with rate_limited
_END = None


@dataclass(eq=False)
class _Turn:
    id: int
    segmenter: Segmenter = field(default_factory=Segmenter)
    sentences: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)  # bounded by max_text_chars
    cancelled: bool = False
    ended: bool = False  # final text received
    first_text_at: float = 0.0
    task: asyncio.Task[None] | None = None
    sent_ms: float = 0.0


def encode_output(samples: np.ndarray, encoding: str) -> bytes:
    if encoding == "pcm_f32le":
        return np.clip(samples, -1.0, 1.0).astype("<f4").tobytes()
    return encode_pcm_s16le(samples)


class TtsPipeline:
    def __init__(
        self,
        engine: SpeechEngine,
        session_id: str,
        options: TtsOptions,
        pacer: CreditPacer,
        emit: Callable[[ServerMessage], None],
        emit_audio: Callable[[TtsAudio], Awaitable[None]],
        *,
        frame_ms: int = 60,
        observer: Observer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.session_id = session_id
        self.options = options
        self.pacer = pacer
        self._emit = emit
        self._emit_audio = emit_audio
        self.frame_ms = frame_ms
        self._obs = observer or NullObserver()
        self._clock = clock
        self._turns: dict[int, _Turn] = {}
        self._order: deque[_Turn] = deque()
        self._refused: deque[int] = deque(maxlen=64)  # turns refused at the bound: ignore their later deltas
        self._wake = asyncio.Event()
        self._credit = asyncio.Event()
        self._closing = False
        self._purge: Callable[[int], int] = lambda _turn: 0
        self.completed = 0

    def set_purge(self, purge: Callable[[int], int]) -> None:
        """How to drop a turn's queued frames from the outbound audio lane."""
        self._purge = purge

    # -- inputs from the router ------------------------------------------------------------------
    def text(self, turn_id: int, text: str, final: bool) -> None:
        turn = self._turns.get(turn_id)
        if turn is None:
            if turn_id in self._refused:
                return
            if len(self._order) >= MAX_QUEUED_TURNS:
                self._refuse(turn_id)
                return
            turn = _Turn(turn_id, first_text_at=self._clock())
            self._turns[turn_id] = turn
            self._order.append(turn)
            self._wake.set()
        if turn.cancelled or turn.ended:
            return
        for sentence in turn.segmenter.push(text):
            turn.sentences.put_nowait(sentence)
        if final:
            for sentence in turn.segmenter.finish():
                turn.sentences.put_nowait(sentence)
            turn.ended = True
            turn.sentences.put_nowait(_END)

    def _refuse(self, turn_id: int) -> None:
        """Policy of the bounded turn queue: a new turn past the bound is refused, never queued."""
        self._refused.append(turn_id)
        self._emit(ErrorMessage(
            code=ErrorCode.RATE_LIMITED.value, fatal=False, ref=ErrorRef(type="text", seq=turn_id),
            message=f"{MAX_QUEUED_TURNS} turns are already waiting to be spoken; turn {turn_id} was dropped. "
                    "Wait for tts_done (or cancel) before starting more turns",
        ))
        self._emit(TtsDone(turn=turn_id, status="error", duration_ms=0))

    def cancel(self, turn_id: int | None) -> list[int]:
        """Barge-in; returns the turns cancelled."""
        victims = [t for t in list(self._order) if turn_id is None or t.id == turn_id]
        for turn in victims:
            self._cancel_turn(turn)
        return [t.id for t in victims]

    def flow(self, turn: int | None, played_ms: int | None, buffered_ms: int | None) -> None:
        self.pacer.on_flow(turn, played_ms, buffered_ms)
        self._credit.set()

    def configure(self, options: TtsOptions) -> None:
        self.options = options  # applies from the next chunk

    def shutdown(self) -> None:
        """Server stopping: end every turn (cancelled) and stop."""
        self._closing = True
        self.cancel(None)
        self._wake.set()

    # -- task ----------------------------------------------------------------------------------
    async def run(self) -> None:
        """Play turns in order until :meth:`shutdown` (or cancellation)."""
        while True:
            while not self._order:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
            turn = self._order[0]
            turn.task = asyncio.create_task(self._play(turn), name=f"tts-{self.session_id}-{turn.id}")
            try:
                await asyncio.shield(turn.task)
            except asyncio.CancelledError:
                if not turn.task.cancelled():  # we were cancelled, not the turn
                    turn.task.cancel()
                    await asyncio.gather(turn.task, return_exceptions=True)
                    raise
            except Exception:
                log.exception("session %s: TTS turn failed", self.session_id)
                self._obs.error("tts_internal")
                self._finish(turn, "error")
            self._forget(turn)

    async def _play(self, turn: _Turn) -> None:
        results: asyncio.Queue[tuple[str, SynthesisResult] | None] = asyncio.Queue(SYNTH_AHEAD)
        status = "complete"
        error: ErrorMessage | None = None
        try:
            async with asyncio.TaskGroup() as tg:
                producer = tg.create_task(self._produce(turn, results))
                status = await self._consume(turn, results)
                producer.cancel()
        except* (EngineUnavailable, QueueFull) as group:
            status, error = "error", unavailable_error(group.exceptions[0])
        if not turn.cancelled:
            self._finish(turn, status, error)

    async def _produce(self, turn: _Turn, results: asyncio.Queue[tuple[str, SynthesisResult] | None]) -> None:
        first = True
        while True:
            sentence = await turn.sentences.get()
            if sentence is _END:
                await results.put(None)
                return
            voice, speed = self.options.voice, self.options.speed
            try:
                chunks = await self.engine.phonemize(sentence, voice, session=self.session_id, turn=turn.id)
            except ValueError:
                continue  # nothing speakable (punctuation only)
            for chunk in chunks:
                result = await self.engine.synthesize(
                    chunk, voice, speed, first=first, session=self.session_id, turn=turn.id
                )
                first = False
                await results.put((chunk.text, result))

    async def _consume(self, turn: _Turn, results: asyncio.Queue[tuple[str, SynthesisResult] | None]) -> str:
        rate = self.options.sample_rate
        resampler: Resampler | None = None
        frame_n = max(1, rate * self.frame_ms // 1000)
        seq = 0
        offset = 0  # samples sent in the turn
        while True:
            try:
                item = await results.get()
            except asyncio.CancelledError:
                raise
            if item is None:
                return "complete"
            text, result = item
            audio = result.audio
            if result.sample_rate != rate:
                if resampler is None:
                    resampler = Resampler(result.sample_rate, rate)
                audio = resampler.process(audio)
            chunk_start_ms = offset * 1000 / rate
            words = [
                TtsWord(word=w.word, start_ms=int(chunk_start_ms + w.start_s * 1000),
                        end_ms=int(chunk_start_ms + max(w.end_s, w.start_s) * 1000))
                for w in result.words
            ]
            for i in range(0, len(audio), frame_n):
                frame = audio[i : i + frame_n]
                frame_ms = len(frame) * 1000 / rate
                await self._pace(turn, frame_ms)
                start_ms = offset * 1000 / rate
                end_ms = start_ms + frame_ms
                in_frame = [w for w in words if start_ms <= w.start_ms < end_ms]
                message = TtsAudio(
                    turn=turn.id, seq=seq, data=encode_output(frame, self.options.encoding), sample_rate=rate,
                    text=text if i == 0 else "", offset_ms=int(start_ms), words=in_frame or None,
                )
                if turn.cancelled:
                    return "cancelled"
                if seq == 0:
                    self._obs.tts_first_audio(self._clock() - turn.first_text_at)
                await self._emit_audio(message)
                self.pacer.on_sent(turn.id, frame_ms, self._clock())
                turn.sent_ms += frame_ms
                seq += 1
                offset += len(frame)

    async def _pace(self, turn: _Turn, next_ms: float) -> None:
        while True:
            wait = self.pacer.wait_s(turn.id, next_ms, self._clock())
            if wait <= 0:
                return
            self._credit.clear()
            try:
                async with asyncio.timeout(min(wait, 1.0)):
                    await self._credit.wait()
            except TimeoutError:
                pass

    # -- endings --------------------------------------------------------------------------------
    def _cancel_turn(self, turn: _Turn) -> None:
        if turn.cancelled:
            return
        turn.cancelled = True
        self.engine.cancel(self.session_id, turn.id)
        if turn.task is not None and not turn.task.done():
            turn.task.cancel()
        self._purge(turn.id)
        self._finish(turn, "cancelled")
        if turn.task is None:  # never started: forget it now
            self._forget(turn)

    def _finish(self, turn: _Turn, status: str, error: ErrorMessage | None = None) -> None:
        if status == "error":
            self._emit(error or ErrorMessage(code=ErrorCode.INTERNAL.value, fatal=False,
                                             message=f"speech synthesis failed for turn {turn.id}; try again"))
        self._emit(TtsDone(turn=turn.id, status=status, duration_ms=int(turn.sent_ms)))  # type: ignore[arg-type]
        if status == "complete":
            self.completed += 1
        self.pacer.end_turn(turn.id)

    def _forget(self, turn: _Turn) -> None:
        if self._order and self._order[0] is turn:
            self._order.popleft()
        elif turn in self._order:
            self._order.remove(turn)
        self._turns.pop(turn.id, None)


def unavailable_error(exc: Exception) -> ErrorMessage:
    code = ErrorCode.SERVER_BUSY if isinstance(exc, QueueFull) else ErrorCode.MODEL_UNAVAILABLE
    return ErrorMessage(code=code.value, message=str(exc), fatal=False)


__all__ = ["EngineUnavailable", "TtsPipeline", "encode_output", "unavailable_error"]
