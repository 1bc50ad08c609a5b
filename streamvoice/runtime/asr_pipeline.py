"""Per-session recognition: PCM bytes -> 16 kHz float -> RecognizerStream -> engine -> messages.

Two tasks: the feeder drains the bounded inbound buffer into the stream (cheap: VAD only) and
applies the degradation ladder; the decoder runs the stream's due request on the engine, one
at a time, and turns events into protocol messages.

Inbound bound: ``max_buffer_s`` of undelivered audio; beyond it the oldest is dropped and the
drop announced in a ``flow`` message (this only happens when the event loop itself is starved,
because feeding is cheap). Recognition lag is bounded by the ladder (see ``degrade.py``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from streamvoice.asr import events as ev
from streamvoice.asr.options import StreamOptions
from streamvoice.asr.stream import RecognizerStream
from streamvoice.audio.pcm import decode_pcm
from streamvoice.audio.resample import Resampler
from streamvoice.engine.engine import SpeechEngine
from streamvoice.protocol.messages import Final, Partial, ServerFlow, ServerMessage, Speech, Word
from streamvoice.protocol.options import AsrOptions, AudioInputOptions
from streamvoice.runtime.degrade import DegradeLadder, FlowChange
from streamvoice.runtime.observe import NullObserver, Observer

log = logging.getLogger(__name__)

SLOW_FACTOR = 3  # level 1: partial cadence slowed by this factor
ASR_RATE = 16000


def stream_options(base: StreamOptions, asr: AsrOptions) -> StreamOptions:
    """The client's ASR options applied on the server's defaults."""
    return base.with_(
        language=asr.language,
        task=asr.task,
        partials=asr.partials,
        word_timestamps=asr.word_timestamps,
        vad_aggressiveness=asr.vad_aggressiveness,
        end_of_speech_ms=asr.end_of_speech_ms,
        lock_language=asr.lock_language,
        languages=tuple(asr.languages),
    )


def _words(words: tuple[ev.Word, ...]) -> list[Word]:
    return [
        Word(word=w.word, start_s=max(0.0, w.start_s), end_s=max(0.0, w.end_s),
             probability=min(1.0, max(0.0, w.probability)))
        for w in words
    ]


class AsrPipeline:
    def __init__(
        self,
        engine: SpeechEngine,
        session_id: str,
        options: StreamOptions,
        audio: AudioInputOptions,
        emit: Callable[[ServerMessage], None],
        *,
        max_lag_ms: int,
        max_buffer_s: float = 5.0,
        observer: Observer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.session_id = session_id
        self.options = options
        self.audio = audio
        self._emit = emit
        self._obs = observer or NullObserver()
        self._clock = clock
        self.stream = RecognizerStream(options, session_id)
        self._resampler = Resampler(audio.sample_rate, ASR_RATE)
        self._inbox: deque[np.ndarray] = deque()
        self._inbox_samples = 0
        self._max_inbox = int(max_buffer_s * ASR_RATE)
        self._wake_feed = asyncio.Event()
        self._wake_decode = asyncio.Event()
        self._ladder = DegradeLadder(max_lag_ms)
        self._ended_at: dict[int, float] = {}  # utterance -> wall time its speech ended
        self._request_at: float = 0.0
        self._closing = False
        self._partials_wanted = options.partials
        self.finals = 0

    # -- inputs from the router (never block) --------------------------------------------------
    def push(self, data: bytes) -> None:
        if self._closing:
            return
        samples = decode_pcm(data, self.audio.encoding, self.audio.channels)
        x = self._resampler.process(samples)
        self._inbox.append(x)
        self._inbox_samples += len(x)
        dropped = 0
        while self._inbox_samples > self._max_inbox and len(self._inbox) > 1:
            old = self._inbox.popleft()
            self._inbox_samples -= len(old)
            dropped += len(old)
        if dropped:
            ms = dropped * 1000 / ASR_RATE
            self._obs.dropped("input_audio_ms", ms)
            self._announce(FlowChange(3, int(self.lag_ms), int(ms)))
        self._wake_feed.set()

    def end_audio(self) -> None:
        self._feed_now()
        self._handle(self.stream.end_audio())
        self._wake_decode.set()

    def configure(self, asr: AsrOptions) -> None:
        self._partials_wanted = asr.partials
        self._apply_level(self._ladder.level)

    @property
    def lag_ms(self) -> float:
        return (self.stream.pending_audio_s + self._inbox_samples / ASR_RATE) * 1000.0

    @property
    def level(self) -> int:
        return self._ladder.level

    # -- tasks ---------------------------------------------------------------------------------
    async def run(self) -> None:
        """Feed and decode until :meth:`finish` (or cancellation)."""
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._feeder(), name=f"asr-feed-{self.session_id}")
            tg.create_task(self._decoder(), name=f"asr-decode-{self.session_id}")

    async def finish(self) -> None:
        """End of input: close the stream; :meth:`run` returns once every final is out."""
        if self._closing:
            return
        self._feed_now()
        self._closing = True
        self._handle(self.stream.close())
        self._wake_feed.set()
        self._wake_decode.set()

    async def _feeder(self) -> None:
        while not self._closing:
            await self._wake_feed.wait()
            self._wake_feed.clear()
            self._feed_now()

    def _feed_now(self) -> None:
        if self._closing:
            return
        while self._inbox:
            x = self._inbox.popleft()
            self._inbox_samples -= len(x)
            self._handle(self.stream.push_audio(x))
        self._check_lag()
        self._wake_decode.set()

    async def _decoder(self) -> None:
        while True:
            request = self.stream.next_request()
            if request is None:
                if self.stream.finished or (self._closing and self.stream.next_request() is None
                                            and self.stream.finished):
                    return
                self._wake_decode.clear()
                await self._wake_decode.wait()
                continue
            started = self._clock()
            try:
                result = await self.engine.asr(request)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("session %s: ASR decode failed", self.session_id)
                self._obs.error("asr_decode")
                raise
            now = self._clock()
            if request.kind == "partial":
                self._obs.partial_latency(now - started)
            self._handle(self.stream.apply(request, result))
            self._check_lag()

    # -- events -> messages ----------------------------------------------------------------------
    def _handle(self, events: list[ev.AsrEvent]) -> None:
        for e in events:
            if isinstance(e, ev.SpeechStarted):
                self._emit(Speech(event="start", utterance=e.utterance + 1, time_s=max(0.0, e.time_s)))
            elif isinstance(e, ev.SpeechEnded):
                self._ended_at[e.utterance] = self._clock()
                self._emit(Speech(event="end", utterance=e.utterance + 1, time_s=max(0.0, e.time_s)))
            elif isinstance(e, ev.Partial):
                self._emit(Partial(utterance=e.utterance + 1, revision=max(0, e.revision - 1), text=e.text,
                                   stable_text=e.stable_text, words=_words(e.words) or None))
            elif isinstance(e, ev.Final):
                ended = self._ended_at.pop(e.utterance, None)
                latency = None if ended is None else max(0.0, self._clock() - ended)
                if latency is not None:
                    self._obs.final_latency(latency)
                self.finals += 1
                self._emit(Final(
                    utterance=e.utterance + 1, text=e.text, words=_words(e.words), language=e.language or None,
                    language_probability=min(1.0, max(0.0, e.language_probability)),
                    start_s=max(0.0, e.start_s), end_s=max(0.0, e.end_s, e.start_s),
                    latency_ms=None if latency is None else int(latency * 1000),
                ))

    # -- degradation ----------------------------------------------------------------------------
    def _check_lag(self) -> None:
        lag = self.lag_ms
        self._obs.asr_lag(lag)
        change = self._ladder.update(lag)
        if change is not None:
            self._apply_level(change.level)
            self._announce(change)
        if self._ladder.level >= 3:
            dropped_s = self.stream.drop_pending(self._ladder.max_lag_ms / 2000.0)
            if dropped_s > 0:
                self._obs.dropped("input_audio_ms", dropped_s * 1000)
                self._announce(self._ladder.dropped(dropped_s * 1000, self.lag_ms))
                self._apply_level(self._ladder.level)

    def _apply_level(self, level: int) -> None:
        base = self.options.partial_interval_ms
        self.stream.set_partial_interval_ms(base * SLOW_FACTOR if level >= 1 else base)
        self.stream.set_partials_enabled(self._partials_wanted and level < 2)

    def _announce(self, change: FlowChange) -> None:
        self._emit(ServerFlow(lag_ms=max(0, change.lag_ms), level=change.level, dropped_ms=change.dropped_ms))
