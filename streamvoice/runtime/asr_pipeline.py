"""Per-session recognition: input samples -> 16 kHz -> stream -> engine -> transcript events.

Audio is fed to the stream as it arrives (cheap: resampling and VAD only); one decoder task runs
the stream's due request on the engine, one at a time, and puts what comes back into the outbox.
Recognition lag is bounded by the degradation ladder (see ``degrade.py``). ``configure`` stages
new recognition options (language, languages, task, VAD, end of speech, model) for the next
utterance (:class:`~streamvoice.asr.reconfigure.ReconfigurableStream`); ``partials`` applies at
once. A speech start is reported to the session's barge-in policy, each final to its agent (if any).

No self-hearing (with a :class:`~streamvoice.runtime.self_hearing.SelfHearing`): an utterance
that starts while a reply is audible is held back, ``speech`` ``start`` included, until a
hypothesis of it is judged. The user's: it is released as it would have been sent (its start,
then the current hypothesis), and only then does the barge-in policy hear of it. The reply's own
echo: every later hypothesis is judged again (the user may start speaking over it), and if its
final is echo too, nothing of the utterance is sent and the agent never sees it. Utterance ids
on the wire count only utterances sent, so they stay 1, 2, … Outside replies nothing waits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from streamvoice.asr import events as ev
from streamvoice.asr.backend import ASR_SAMPLE_RATE
from streamvoice.asr.options import StreamOptions
from streamvoice.asr.reconfigure import ReconfigurableStream
from streamvoice.asr.stream import RecognizerStream
from streamvoice.audio.resample import Resampler
from streamvoice.capabilities import Capabilities
from streamvoice.engine.engine import SpeechEngine
from streamvoice.protocol.errors import ErrorCode
from streamvoice.protocol.messages import (
    ErrorMessage,
    ErrorRef,
    Final,
    Partial,
    ServerFlow,
    Speech,
    TurnResumed,
    Word,
)
from streamvoice.protocol.options import AsrOptions
from streamvoice.runtime.degrade import DegradeLadder, FlowChange
from streamvoice.runtime.observe import NullObserver, Observer
from streamvoice.runtime.outbox import Outbox
from streamvoice.runtime.self_hearing import HeardWord, SelfHearing, Verdict, trim_echo

log = logging.getLogger(__name__)

SLOW_FACTOR = 3  # level 1: partial cadence slowed by this factor


def stream_options(base: StreamOptions, asr: AsrOptions, caps: Capabilities | None = None) -> StreamOptions:
    """The client's ASR options applied on the server's defaults, within what the model declares
    (an English-only model hears English and cannot translate)."""
    return base.with_(
        multilingual=caps is None or caps.languages != ("en",),
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
        base: StreamOptions,
        asr: AsrOptions,
        outbox: Outbox,
        *,
        max_lag_ms: int,
        on_speech_start: Callable[[], object] = lambda: None,
        on_final: Callable[[Final], object] = lambda final: None,
        on_resumed: Callable[[TurnResumed], object] = lambda resumed: None,
        on_speech_end: Callable[[int], object] = lambda utterance: None,
        observer: Observer | None = None,
        clock: Callable[[], float] = time.monotonic,
        self_hearing: SelfHearing | None = None,
    ) -> None:
        self.engine = engine
        self.session_id = session_id
        self._base = base
        self._out = outbox
        self._on_speech_start = on_speech_start
        self._on_final = on_final  # the session's agent turns finals (eager ones too) into replies
        self._on_resumed = on_resumed  # ... withdraws a reply begun on an eager final
        self._on_speech_end = on_speech_end  # ... and lets it be heard once the end of speech is sure
        self._obs = observer or NullObserver()
        self._clock = clock
        self.stream = ReconfigurableStream(self._options(asr), session_id, model=asr.model)
        self._resampler: Resampler | None = None
        self._wake = asyncio.Event()
        self._ladder = DegradeLadder(max_lag_ms)
        self._unreported_drop_ms = 0  # dropped since the last flow message (reported at most once a second)
        self._last_flow_at = float("-inf")
        self._ended_at: dict[int, float] = {}  # utterance -> wall time its speech ended
        self._closing = False
        self._partials_wanted = asr.partials
        self._hearing = self_hearing
        self._fed = 0  # 16 kHz samples given to the stream: its time is _fed / 16000
        self._held: dict[int, list[ev.AsrEvent]] = {}  # utterance -> its events held back, oldest first
        self._wire: dict[int, int] = {}  # stream utterance -> id sent (only utterances sent count)
        self._next_wire = 1
        self._gated: dict[int, int] = {}  # released after a hold -> revision of its first partial sent (-1: none yet)
        self.echo_dropped = 0  # utterances withheld as the reply's own echo

    # -- inputs from the router (never block) --------------------------------------------------
    def push(self, samples: np.ndarray, sample_rate: int, seq: int | None = None) -> None:
        """Input audio at ``sample_rate``; bad samples are answered with an error, not raised."""
        if self._closing:
            return
        if self._resampler is None or self._resampler.in_rate != sample_rate:
            self._resampler = Resampler(sample_rate, ASR_SAMPLE_RATE)
        try:
            audio = self._resampler.process(samples)
            events = self.stream.push_audio(audio)
            self._fed += len(audio)
        except ValueError as exc:
            self._out.put(ErrorMessage(code=ErrorCode.INVALID_FIELD.value, message=str(exc),
                                       ref=ErrorRef(type="audio", seq=seq)))
            return
        self._handle(events)
        self._check_lag()
        self._wake.set()

    def end_audio(self) -> None:
        if self._closing:
            return
        self._handle(self.stream.end_audio())
        self._wake.set()

    def configure(self, asr: AsrOptions) -> None:
        """Recognition options from the next utterance; ``partials`` now."""
        self._partials_wanted = asr.partials
        options = replace(self._options(asr), partials=self.stream.options.partials)
        self.stream.reconfigure(options, model=asr.model)
        self._apply_level(self._ladder.level)

    def _options(self, asr: AsrOptions) -> StreamOptions:
        return stream_options(self._base, asr, self.engine.asr_capabilities(asr.model))

    @property
    def audio_s(self) -> float:
        """Input time now: seconds of audio received (the stream's word times are on this timeline)."""
        return self._fed / ASR_SAMPLE_RATE

    @property
    def lag_ms(self) -> float:
        return self.stream.pending_audio_s * 1000.0

    @property
    def level(self) -> int:
        return self._ladder.level

    # -- task ------------------------------------------------------------------------------------
    async def finish(self) -> None:
        """End of input: close the stream; :meth:`run` returns once every final is out."""
        if self._closing:
            return
        self._closing = True
        self._handle(self.stream.close())
        self._flush_drops()
        self._wake.set()

    async def run(self) -> None:
        """Decode until :meth:`finish` has been called and every final is out (or cancellation)."""
        while not self.stream.finished:
            request = self.stream.next_request()
            if request is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            started = self._clock()
            try:
                result = await self.engine.asr(request, model=self.stream.model_of(request) or None)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("session %s: ASR decode failed", self.session_id)
                self._obs.error("asr_decode")
                raise
            if request.kind == "partial":
                self._obs.partial_latency(self._clock() - started)
            self._handle(self.stream.apply(request, result))
            self._check_lag()

    # -- events -> messages ----------------------------------------------------------------------
    def _handle(self, events: list[ev.AsrEvent]) -> None:
        for e in events:
            if self._hearing is not None and isinstance(e, ev.SpeechStarted) and (
                    self._held or self._hearing.active(e.time_s)):
                self._held[e.utterance] = []  # a reply is audible (or an earlier utterance is undecided)
            held = self._held.get(e.utterance)
            if held is None:
                self._emit(e)
                continue
            if isinstance(e, ev.TurnResumed):  # withdraws a held eager final: neither was sent
                held[:] = [h for h in held if not isinstance(h, ev.EagerFinal)]
            elif isinstance(e, (ev.Partial, ev.EagerFinal, ev.Final)):
                held[:] = [h for h in held if not isinstance(h, (ev.Partial, ev.EagerFinal))] + [e]
            else:
                held.append(e)
            self._decide()

    def _decide(self) -> None:
        """Judge held utterances, oldest first (a later one waits for an earlier one's fate)."""
        assert self._hearing is not None
        while self._held:
            utterance, held = next(iter(self._held.items()))
            hyp = next((h for h in reversed(held) if isinstance(h, (ev.Partial, ev.EagerFinal, ev.Final))), None)
            if hyp is None:
                return
            final = isinstance(hyp, ev.Final)
            verdict = self._hearing.judge(_heard(hyp, held), final=final,
                                          open_end=isinstance(hyp, ev.Partial)).verdict
            if verdict is Verdict.USER:
                del self._held[utterance]
                self._gated[utterance] = hyp.revision if isinstance(hyp, ev.Partial) else -1
                for h in held:
                    self._emit(h)
            elif isinstance(hyp, ev.Final):
                del self._held[utterance]
                self._ended_at.pop(utterance, None)
                self.echo_dropped += 1
                log.info("session %s: an utterance (%.2f-%.2f s) was the reply's own echo: %r", self.session_id,
                         hyp.start_s, hyp.end_s, hyp.text)
            else:
                return

    def _emit(self, e: ev.AsrEvent) -> None:
        if isinstance(e, ev.SpeechStarted):
            self._wire[e.utterance] = wire = self._next_wire
            self._next_wire += 1
        else:
            wire = self._wire.get(e.utterance, e.utterance + 1)
        if isinstance(e, ev.SpeechStarted):
            self._out.put(Speech(event="start", utterance=wire, time_s=max(0.0, e.time_s)))
            self._on_speech_start()
        elif isinstance(e, ev.SpeechEnded):
            self._ended_at[e.utterance] = self._clock()
            self._out.put(Speech(event="end", utterance=wire, time_s=max(0.0, e.time_s)))
            self._on_speech_end(wire)
        elif isinstance(e, ev.EagerFinal):
            eager = Final(
                utterance=wire, text=e.text, words=_words(e.words), language=e.language or None,
                language_probability=min(1.0, max(0.0, e.language_probability)),
                start_s=max(0.0, e.start_s), end_s=max(0.0, e.end_s, e.start_s), eager=True,
            )
            self._out.put(eager)
            self._on_final(eager)
        elif isinstance(e, ev.TurnResumed):
            resumed = TurnResumed(utterance=wire, time_s=max(0.0, e.time_s))
            self._out.put(resumed)
            self._on_resumed(resumed)
        elif isinstance(e, ev.Partial):
            first = self._gated.get(e.utterance, 1)  # a released utterance's partials count from its first sent
            if first < 0:
                first = self._gated[e.utterance] = e.revision
            self._out.put(Partial(utterance=wire, revision=max(0, e.revision - first), text=e.text,
                                  stable_text=e.stable_text, words=_words(e.words) or None))
        elif isinstance(e, ev.Final):
            self._wire.pop(e.utterance, None)
            if self._gated.pop(e.utterance, None) is not None:
                e = self._trimmed(e)
            ended = self._ended_at.pop(e.utterance, None)
            latency = None if ended is None else max(0.0, self._clock() - ended)
            if latency is not None:
                self._obs.final_latency(latency)
            final = Final(
                utterance=wire, text=e.text, words=_words(e.words), language=e.language or None,
                language_probability=min(1.0, max(0.0, e.language_probability)),
                start_s=max(0.0, e.start_s), end_s=max(0.0, e.end_s, e.start_s),
                latency_ms=None if latency is None else int(latency * 1000),
            )
            self._out.put(final)
            self._on_final(final)

    def _trimmed(self, e: ev.Final) -> ev.Final:
        """A released utterance's final without the reply's echo before and after the user's words."""
        if self._hearing is None or not e.words:
            return e
        lo, hi = trim_echo(self._hearing.judge(_heard(e, []), final=True))
        if (lo, hi) == (0, len(e.words)) or lo >= hi:
            return e  # nothing to cut, or nothing would be left: the final as decoded
        kept = e.words[lo:hi]
        return replace(e, words=kept, text=" ".join(w.word.strip() for w in kept),
                       start_s=kept[0].start_s, end_s=kept[-1].end_s)

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
                level = self._ladder.level
                drop = self._ladder.dropped(dropped_s * 1000, self.lag_ms)
                self._unreported_drop_ms += drop.dropped_ms
                self._apply_level(drop.level)
                if drop.level != level:
                    self._announce(FlowChange(drop.level, drop.lag_ms))
        if self._unreported_drop_ms and self._clock() - self._last_flow_at >= 1.0:
            self._flush_drops()

    def _flush_drops(self) -> None:
        """Report audio dropped since the last flow message, if any (none may go unreported)."""
        if self._unreported_drop_ms:
            self._announce(FlowChange(self._ladder.level, int(self.lag_ms)))

    def _apply_level(self, level: int) -> None:
        apply_level(self.stream, level, self._partials_wanted)

    def _announce(self, change: FlowChange) -> None:
        """A flow message: the level and lag now, and all audio dropped since the last one (PROTOCOL 8.3:
        every change at once, otherwise at most one a second)."""
        dropped, self._unreported_drop_ms = change.dropped_ms + self._unreported_drop_ms, 0
        self._last_flow_at = self._clock()
        self._out.put(ServerFlow(lag_ms=max(0, change.lag_ms), level=change.level, dropped_ms=dropped))


def _heard(hyp: ev.Partial | ev.EagerFinal | ev.Final, held: list[ev.AsrEvent]) -> list[HeardWord]:
    """A hypothesis as timed words; without word timings its words span the utterance so far."""
    if hyp.words:
        return [HeardWord(w.word, w.start_s, w.end_s) for w in hyp.words]
    start = next((h.time_s for h in held if isinstance(h, ev.SpeechStarted)), None)
    if isinstance(hyp, ev.Partial):
        lo, hi = (start if start is not None else 0.0), float("inf")  # still open: it reaches up to now
    else:
        lo = hyp.start_s if start is None else min(start, hyp.start_s)
        hi = max(lo, hyp.end_s)
    return [HeardWord(word, lo, hi) for word in hyp.text.split()]


def apply_level(stream: RecognizerStream | ReconfigurableStream, level: int, partials_wanted: bool = True) -> None:
    """What a degradation level does to a stream (``degrade.py``): level 1 slows its partials by
    ``SLOW_FACTOR``, level 2 and up stops them. (``bench.asr_capacity``'s laddered arm calls it too.)"""
    base = stream.options.partial_interval_ms
    stream.set_partial_interval_ms(base * SLOW_FACTOR if level >= 1 else base)
    stream.set_partials_enabled(partials_wanted and level < 2)
