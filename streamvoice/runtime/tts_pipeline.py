"""Per-session speech synthesis: text deltas -> chunks -> G2P -> engine -> paced audio frames.

Turns play one after another. Each turn is a :class:`~streamvoice.tts.turn.TurnSynthesisPlan`,
the same sans-I/O object the CLI's ``say`` drives, so segmentation, fades at every chunk join,
resampling, sample format and word offsets are one code path and both produce the same samples.
Within the playing turn a producer synthesizes ahead (at most ``SYNTH_AHEAD`` chunks) while the
consumer puts the plan's frames into the outbox when the :class:`CreditPacer` allows (the outbox
waits when the client does not read). Voice and speed are read per chunk, so ``configure``
applies from the next chunk. ``cancel`` marks the turn, cancels its task, drops its queued work in
the engine and its unsent frames in the outbox, then puts ``tts_done{status: cancelled}``: nothing
of the turn can follow it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from streamvoice.engine.engine import EngineUnavailable, SpeechEngine
from streamvoice.engine.workqueue import QueueFull
from streamvoice.protocol.errors import ErrorCode
from streamvoice.protocol.messages import ErrorMessage, ErrorRef, TtsAudio, TtsDone, TtsWord
from streamvoice.protocol.options import TtsOptions
from streamvoice.runtime.credits import CreditPacer
from streamvoice.runtime.observe import NullObserver, Observer
from streamvoice.runtime.outbox import Outbox
from streamvoice.tts.turn import AudioFrame, ChunkJob, TurnSynthesisPlan, merge_results
from streamvoice.tts.types import PhonemizedChunk, SynthesisResult

log = logging.getLogger(__name__)

SYNTH_AHEAD = 2  # chunks synthesized ahead of playback, per turn
MAX_QUEUED_TURNS = 8  # turns waiting to be spoken per session; more are refused with rate_limited
_END = None


@dataclass(eq=False)
class _Turn:
    id: int
    plan: TurnSynthesisPlan
    jobs: asyncio.Queue[ChunkJob | None] = field(default_factory=asyncio.Queue)  # bounded by max_text_chars
    cancelled: bool = False
    ended: bool = False  # final text received
    first_text_at: float = 0.0
    task: asyncio.Task[None] | None = None
    sent_ms: float = 0.0
    words: list[TtsWord] = field(default_factory=list)  # word timings of the audio sent (turn time)


class TtsPipeline:
    def __init__(
        self,
        engine: SpeechEngine,
        session_id: str,
        options: TtsOptions,
        pacer: CreditPacer,
        outbox: Outbox,
        *,
        frame_ms: int = 60,
        observer: Observer | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_done: Callable[[TtsDone], object] = lambda done: None,
        on_audio: Callable[[TtsAudio, float], object] = lambda audio, ms: None,
    ) -> None:
        self.engine = engine
        self.session_id = session_id
        self.options = options
        self.pacer = pacer
        self._out = outbox
        self.frame_ms = frame_ms
        self._obs = observer or NullObserver()
        self._clock = clock
        self._turns: dict[int, _Turn] = {}
        self._order: deque[_Turn] = deque()
        self._refused: deque[int] = deque(maxlen=64)  # turns refused at the bound: ignore their later deltas
        self._wake = asyncio.Event()
        self._credit = asyncio.Event()
        self._closing = False
        self._on_done = on_done  # every tts_done, after it is put in the outbox (the agent learns what was heard)
        self._on_audio = on_audio  # every tts_audio sent, with its ms (the session knows what it plays)
        self._last_turn = 0  # highest turn id seen: a server-opened turn takes the next one
        self._held: set[int] = set()  # turns synthesized but not sent yet (a reply to an eager final)

    # -- inputs from the router ------------------------------------------------------------------
    def next_turn_id(self) -> int:
        """The id for a turn the server opens itself (an agent's reply): after every turn seen."""
        return self._last_turn + 1

    def hold(self, turn_id: int) -> None:
        """Synthesize ``turn_id`` but send none of it until :meth:`release` (or a cancel)."""
        self._held.add(turn_id)

    def release(self, turn_id: int) -> None:
        self._held.discard(turn_id)
        self._credit.set()

    def text(self, turn_id: int, text: str, final: bool) -> None:
        self._last_turn = max(self._last_turn, turn_id)
        turn = self._turns.get(turn_id)
        if turn is None:
            if turn_id in self._refused:
                return
            if len(self._order) >= MAX_QUEUED_TURNS:
                self._refuse(turn_id)
                return
            plan = TurnSynthesisPlan(turn_id, self.options.sample_rate, self.frame_ms,
                                     encoding=self.options.encoding)
            turn = _Turn(turn_id, plan, first_text_at=self._clock())
            self._turns[turn_id] = turn
            self._order.append(turn)
            self._wake.set()
        if turn.cancelled or turn.ended:
            return
        for job in turn.plan.push(text):
            turn.jobs.put_nowait(job)
        if final:
            for job in turn.plan.finish():
                turn.jobs.put_nowait(job)
            turn.ended = True
            turn.jobs.put_nowait(_END)

    def _refuse(self, turn_id: int) -> None:
        """Policy of the bounded turn queue: a new turn past the bound is refused, never queued."""
        self._refused.append(turn_id)
        self._out.put(ErrorMessage(
            code=ErrorCode.RATE_LIMITED.value, fatal=False, ref=ErrorRef(type="text", seq=turn_id),
            message=f"{MAX_QUEUED_TURNS} turns are already waiting to be spoken; turn {turn_id} was dropped. "
                    "Wait for tts_done (or cancel) before starting more turns",
        ))
        done = TtsDone(turn=turn_id, status="error", duration_ms=0)
        self._out.put(done)
        self._on_done(done)

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
                # A barge-in cancels the turn's task, and the shield passes that on as our own
                # CancelledError; only a request to cancel *this* task (counted by ``cancelling``)
                # ends the loop. Asking the turn's task instead hung shutdown when both came at once.
                me = asyncio.current_task()
                if me is not None and me.cancelling():
                    turn.task.cancel()
                    await asyncio.gather(turn.task, return_exceptions=True)
                    raise
            except Exception:
                log.exception("session %s: TTS turn failed", self.session_id)
                self._obs.error("tts_internal")
                self._finish(turn, "error")
            self._forget(turn)

    async def _play(self, turn: _Turn) -> None:
        results: asyncio.Queue[tuple[ChunkJob, SynthesisResult | None] | None] = asyncio.Queue(SYNTH_AHEAD)
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

    async def _produce(
        self, turn: _Turn, results: asyncio.Queue[tuple[ChunkJob, SynthesisResult | None] | None]
    ) -> None:
        first = True
        while True:
            job = await turn.jobs.get()
            if job is _END:
                await results.put(None)
                return
            voice, speed = self.options.voice, self.options.speed
            try:
                chunks = await self.engine.phonemize(job.text, voice, session=self.session_id, turn=turn.id)
            except ValueError:
                await results.put((job, None))  # nothing speakable (punctuation only): keep the order slot
                continue
            if first and len(chunks) == 1:  # the turn's first audio waits on it: its start may come first
                await self._produce_early(turn, job, replace(chunks[0], early_audio=True), results)
                first = False
                continue
            parts: list[SynthesisResult] = []
            for chunk in chunks:
                parts.append(await self.engine.synthesize(
                    chunk, voice, speed, first=first, session=self.session_id, turn=turn.id
                ))
                first = False
            await results.put((job, merge_results(parts)))

    async def _produce_early(
        self, turn: _Turn, job: ChunkJob, chunk: PhonemizedChunk,
        results: asyncio.Queue[tuple[ChunkJob, SynthesisResult | None] | None],
    ) -> None:
        """One chunk whose parts go to the consumer as each is made (``rest``: one more follows)."""
        voice, speed = self.options.voice, self.options.speed
        todo: PhonemizedChunk | None = chunk
        while todo is not None:
            part = await self.engine.synthesize(todo, voice, speed, first=True, session=self.session_id,
                                                turn=turn.id)
            await results.put((job, part))
            todo = part.rest

    async def _consume(
        self, turn: _Turn, results: asyncio.Queue[tuple[ChunkJob, SynthesisResult | None] | None]
    ) -> str:
        while True:
            item = await results.get()
            if item is None:
                return "complete"
            job, result = item
            frames = turn.plan.skip(job) if result is None else turn.plan.accept(job, result)
            for frame in frames:
                frame_ms = frame.samples * 1000 / frame.sample_rate
                await self._pace(turn, frame_ms)
                if turn.cancelled:
                    return "cancelled"
                if frame.seq == 0:
                    self._obs.tts_first_audio(self._clock() - turn.first_text_at)
                message = _message(frame)
                await self._out.put_audio(message)
                turn.words.extend(message.words or ())
                self._on_audio(message, frame_ms)
                self.pacer.on_sent(turn.id, frame_ms, self._clock())
                turn.sent_ms += frame_ms

    async def _pace(self, turn: _Turn, next_ms: float) -> None:
        while True:
            wait = float("inf") if turn.id in self._held else self.pacer.wait_s(turn.id, next_ms, self._clock())
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
        self._held.discard(turn.id)
        turn.cancelled = True
        turn.plan.cancel()
        self.engine.cancel(self.session_id, turn.id)
        if turn.task is not None and not turn.task.done():
            turn.task.cancel()
        self._out.purge_audio(turn.id)
        self._finish(turn, "cancelled")
        if turn.task is None:  # never started: forget it now
            self._forget(turn)

    def _finish(self, turn: _Turn, status: str, error: ErrorMessage | None = None) -> None:
        if status == "error":
            self._out.put(error or ErrorMessage(code=ErrorCode.INTERNAL.value, fatal=False,
                                             message=f"speech synthesis failed for turn {turn.id}; try again"))
        done = TtsDone(turn=turn.id, status=status, duration_ms=int(turn.sent_ms))  # type: ignore[arg-type]
        if turn.words and status != "error":
            played = turn.sent_ms if status == "complete" else self.pacer.played_ms(turn.id, self._clock())
            done = heard_fields(done, turn.words, played, complete=status == "complete")
        self._out.put(done)
        self.pacer.end_turn(turn.id)
        self._on_done(done)

    def _forget(self, turn: _Turn) -> None:
        if self._order and self._order[0] is turn:
            self._order.popleft()
        elif turn in self._order:
            self._order.remove(turn)
        self._turns.pop(turn.id, None)


def _message(frame: AudioFrame) -> TtsAudio:
    """The wire message for one frame of the shared plan (word times in turn milliseconds)."""
    words = [TtsWord(word=w.word, start_ms=int(w.start_s * 1000), end_ms=int(max(w.end_s, w.start_s) * 1000))
             for w in frame.words]
    return TtsAudio(turn=frame.turn, seq=frame.seq, data=frame.pcm, sample_rate=frame.sample_rate,
                    text=frame.text, offset_ms=int(frame.offset_ms), words=words or None)


def heard_fields(done: TtsDone, words: list[TtsWord], played_ms: float, *, complete: bool) -> TtsDone:
    """``tts_done`` with what the listener heard: the words whose audio ended by ``played_ms``
    (a word cut in the middle was not heard), or every word of a completed turn."""
    heard = words if complete else [w for w in words if w.end_ms <= played_ms]
    return done.model_copy(update={
        "played_ms": None if complete else int(min(played_ms, done.duration_ms or 0)),
        "heard_words": len(heard),
        "heard_text": " ".join(w.word.strip() for w in heard if w.word.strip()),
    })


def unavailable_error(exc: Exception) -> ErrorMessage:
    code = ErrorCode.SERVER_BUSY if isinstance(exc, QueueFull) else ErrorCode.MODEL_UNAVAILABLE
    return ErrorMessage(code=code.value, message=str(exc), fatal=False)


__all__ = ["EngineUnavailable", "TtsPipeline", "unavailable_error"]
