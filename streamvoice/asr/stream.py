"""One recognition stream, sans-I/O: audio in, decode requests out, results in, events out.

The owner (the engine, the CLI driver, a test) pushes 16 kHz audio, asks for the decode that is
due, runs it on a backend wherever it likes, and applies the result. The stream never blocks,
never threads and never sleeps, so the same object serves real-time and instant-compute runs.

Per utterance (VAD speech start .. end): the audio from ``committed_context_s`` before the last
committed word (from the utterance's start until a word is committed) to now is re-decoded every
``partial_interval_ms`` of new speech; LocalAgreement-2 commits the words two consecutive
hypotheses agree on. Each decode is prompted with the text before its window (earlier finals of
the session, committed words) and forced to start with the committed words inside it, so it only
adds words after them. A few seconds of heard context decode as well as the whole utterance did
and cost a fraction (``bench.asr_wer``, ``bench.asr_latency``). When the window outgrows
``window_s`` it slides to just before the last committed word (``overlap_s``). The final decode
at the utterance end (the speech plus ``hangover_ms``) commits everything; what it adds after the
speech ended is dropped. It starts ``final_context_s`` before the last committed word: its words
stay, and with a whole short utterance heard they are right more often (LJ Speech, whisper-base:
stream/offline WER 1.19 with 3 s, 1.04 with 10 s). The language comes from the session's
:class:`~streamvoice.asr.language.LanguagePolicy`; until it is settled nothing is committed. At
most one decode per stream is in flight; finals go before partials.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from streamvoice.asr.backend import DecodeRequest, DecodeResult
from streamvoice.asr.buffer import SAMPLE_RATE, AudioBuffer
from streamvoice.asr.carry import CARRY_S, carried_words
from streamvoice.asr.events import (
    AsrEvent,
    EagerFinal,
    Final,
    Partial,
    SpeechEnded,
    SpeechStarted,
    TurnResumed,
    Word,
)
from streamvoice.asr.guard import cut_unheard_tail, guard_segments
from streamvoice.asr.language import LanguagePolicy, LanguageRules
from streamvoice.asr.merge import join_words
from streamvoice.asr.options import StreamOptions
from streamvoice.asr.short_final import after_committed, choose_final, stops_short
from streamvoice.asr.utterance import EarlyFinal, Utterance
from streamvoice.asr.vad import VoiceActivityDetector

_PROMPT_CHARS = 200  # earlier text given to Whisper as context
_MIN_DECODE_S = 0.3  # shorter windows are not worth a decode
_AFTER_SPEECH_S = 0.1  # a final's word may start this long after the VAD's end of speech
# At the end of the audio (``audio_end``, stream end) nothing more will come, so the final hears
# up to this much of what follows the last voiced frame, and keeps the words said in it: webrtcvad
# misses quiet last words ("...over 17 billion euros" ended "over 17" on earnings22).
_END_OF_AUDIO_TAIL_S = 1.0
# Nothing is committed from an utterance's first decodes: with under 1.5 s heard, Whisper guesses
# from a syllable and two guesses can agree ("And the line of" for "underlying our" on earnings22).
# (2 s left whole short utterances to one final decode: "in being" at 8 kHz came out "invening".)
_MIN_COMMIT_AUDIO_S = 1.5
# Without partials (the client's choice, or degradation level 2) a decode still runs every this many
# seconds of speech, and shows nothing: it commits words, so the window slides and the lag stays
# bounded. Without it continuous speech went undecoded until the 15 s window filled; the lag passed
# max_asr_lag_ms and audio was dropped for a minute (bench.asr_busy, the long-form reading).
_COMMIT_INTERVAL_S = 3.0
# With an eager end of turn, the final's decode in the pause starts after half the eager silence
# (not the whole hangover), so its result is there when the eager final is due: the decode takes
# 0.1-0.3 s on two cores, and waiting 200 ms before it put eager finals 0.34-0.59 s after the end
# of speech (bench.voice_loop --agent llm). It still hears at least this much after the speech:
# a final keeps no word starting later than _AFTER_SPEECH_S after it anyway.
_EAGER_MIN_TAIL_MS = 120


class RecognizerStream:
    """Streaming Whisper recognition state for one audio stream (see module docstring)."""

    def __init__(self, options: StreamOptions, stream_id: str = "") -> None:
        self.options = options
        self.stream_id = stream_id
        self._vad = VoiceActivityDetector(options.vad_aggressiveness, options.vad_frame_ms, options.end_of_speech_ms)
        self._buf = AudioBuffer()
        self._samples = 0
        self._next_id = 0
        self._active: Utterance | None = None
        self._ended: deque[Utterance] = deque()  # awaiting their final decode, oldest first
        self._in_flight: DecodeRequest | None = None
        self._partials = options.partials
        self._interval_s = options.partial_interval_ms / 1000.0
        fixed = options.language if options.language != "auto" else None
        self._language = LanguagePolicy(LanguageRules(fixed=fixed, languages=options.languages,
                                                      lock=options.lock_language))
        self._context = ""  # the session's recent final text, the prompt of a new utterance
        self._eager_request: DecodeRequest | None = None  # the decode that may give an eager final
        self._early_request: DecodeRequest | None = None  # a final's decode started in the pause
        self._last_final: tuple[Word, ...] = ()  # words of the latest final, for the carry
        self._last_language: str | None = None
        self._closed = False

    # -- properties ---------------------------------------------------------------------------
    @property
    def audio_time_s(self) -> float:
        """Seconds of audio fed so far."""
        return self._samples / SAMPLE_RATE

    @property
    def pending_audio_s(self) -> float:
        """Speech audio not yet covered by any decode (the owner's lag measure)."""
        total = sum(max(0.0, (u.end_s or 0.0) - u.decoded_until_s) for u in self._ended)
        if self._active is not None:
            total += max(0.0, self.audio_time_s - self._active.decoded_until_s)
        return total

    @property
    def finished(self) -> bool:
        """Closed and every final delivered: nothing more will come."""
        return self._closed and self._active is None and not self._ended and self._in_flight is None

    # -- audio --------------------------------------------------------------------------------
    def push_audio(self, samples: np.ndarray) -> list[AsrEvent]:
        """Feed float32 mono 16 kHz audio; returns SpeechStarted/SpeechEnded events."""
        if self._closed:
            raise ValueError("audio pushed after close(); open a new stream")
        x = np.asarray(samples, dtype=np.float32)
        if x.ndim != 1:
            raise ValueError(f"expected mono 16 kHz samples (1-D), got shape {x.shape}")
        if x.size and not np.isfinite(x).all():
            raise ValueError("audio contains NaN or infinite samples")
        self._buf.append(x)
        self._samples += len(x)
        events: list[AsrEvent] = []
        for ev in self._vad.process(x):
            if ev.kind == "start":
                events.append(self._start_utterance(ev.time_s - self.options.preroll_ms / 1000.0))
            elif self._active is not None:
                events.extend(self._end_utterance(ev.time_s, "silence"))
        u = self._active
        if u is not None and self.audio_time_s - u.start_s >= self.options.max_utterance_s:
            cut = u.cut_point(self.audio_time_s)
            events.extend(self._end_utterance(cut, "max_length", hangover=False))
            events.append(self._start_utterance(cut))
        events.extend(self._eager_check())
        self._early_final_check()
        events.extend(self._eager_from_early())
        self._trim()
        return events

    def end_audio(self) -> list[AsrEvent]:
        """The client's ``audio_end``: finish the open utterance now (its final is due next)."""
        self._vad.flush()
        if self._active is None:
            return []
        return self._end_utterance(self._vad.last_voiced_end_s, "audio_end", tail=True)

    def close(self) -> list[AsrEvent]:
        """The stream ends: a final for any open utterance is still due, then nothing more."""
        if self._closed:
            return []
        self._vad.flush()
        events: list[AsrEvent] = []
        if self._active is not None:
            events.extend(self._end_utterance(self._vad.last_voiced_end_s, "stream_end", tail=True))
        self._closed = True
        return events

    # -- degradation controls ------------------------------------------------------------------
    def set_partial_interval_ms(self, ms: int) -> None:
        if ms < 50:
            raise ValueError(f"partial interval must be at least 50 ms, got {ms}")
        self._interval_s = ms / 1000.0

    def set_partials_enabled(self, on: bool) -> None:
        self._partials = bool(on)

    def drop_pending(self, max_s: float) -> float:
        """Drop the oldest undecoded speech audio beyond ``max_s`` seconds; returns seconds dropped."""
        u = self._active
        if u is None:
            return 0.0
        keep_from = self.audio_time_s - max(0.0, max_s)
        covered = max(u.decoded_until_s, u.window_start_s)
        if keep_from <= covered:
            return 0.0
        u.agreement.commit_until(u.decoded_until_s)
        u.window_start_s = keep_from
        u.decoded_until_s = max(u.decoded_until_s, keep_from)
        return keep_from - covered

    # -- decoding -------------------------------------------------------------------------------
    def next_request(self) -> DecodeRequest | None:
        """The decode due now, or None (nothing due, or one already in flight)."""
        if self._in_flight is not None:
            return None
        if self._ended:
            done = self._ended[0]
            end = done.end_s if done.end_s is not None else self.audio_time_s
            self._choose_carry(done)
            self._in_flight = self._request(done, end, "final", prefix=done.first_final is None)
            return self._in_flight
        u = self._active
        if u is None:
            return None
        if u.early is not None:  # the pause's final decode: no partials while it may stand
            if u.early.requested:
                return None
            u.early.requested = True
            self._choose_carry(u)
            self._in_flight = self._early_request = self._request(u, u.early.end_s, "final")
            return self._in_flight
        now = self.audio_time_s
        if now - u.start_s < _MIN_DECODE_S:
            return None
        interval = self._interval_s if self._partials else max(self._interval_s, _COMMIT_INTERVAL_S)
        due = (now - u.decoded_until_s >= interval) or (
            now - u.window_start_s >= self.options.window_s and now - u.decoded_until_s >= _MIN_DECODE_S
        )
        due = due or (u.eager == "due" and self._eager_request is None)
        if not due or self._pause_decode_soon():
            return None
        self._choose_carry(u)
        u.slide(now, self.options.window_s, self.options.overlap_s)
        self._in_flight = self._request(u, now, "partial")
        if u.eager == "due":
            self._eager_request = self._in_flight
        return self._in_flight

    def apply(self, request: DecodeRequest, result: DecodeResult) -> list[AsrEvent]:
        """Apply the result of the outstanding request; returns Partial/Final (and EagerFinal) events."""
        if request is not self._eager_request:
            return self._apply(request, result)
        self._eager_request = None
        u = self._active
        before = u.last_partial_text if u is not None and u.id == request.utterance else None
        return self._apply(request, result) + self._eager_final(request, before)

    def _apply(self, request: DecodeRequest, result: DecodeResult) -> list[AsrEvent]:
        if request is not self._in_flight:
            raise ValueError("apply() got a request that is not this stream's outstanding one")
        self._in_flight = None
        early = request is self._early_request
        if early:
            self._early_request = None
        u = self._find(request.utterance)
        if u is None:
            return []
        self._learn_language(u, request, result)
        words = [w for seg in guard_segments(result.segments, u.agreement.committed) for w in seg.words]
        if u.carry:  # the pause before the utterance was heard as silence: nothing said there
            words = [w for w in words if w.end_s > u.start_s + 0.05]
        if early:
            return self._apply_early(u, words, bool(request.prefix))
        if request.kind == "final":
            return self._final_or_retry(u, request, _final_words(words, u.words_until_s))
        decoded_end = request.offset_s + len(request.audio) / SAMPLE_RATE
        commit = self._language.settled and decoded_end - u.start_s >= _MIN_COMMIT_AUDIO_S
        u.agreement.insert(words, commit=commit, until_s=decoded_end - self.options.commit_margin_ms / 1000.0)
        if not self._partials or u is not self._active:
            return []
        committed, tail = u.agreement.committed, u.agreement.tail
        text = join_words([*committed, *tail])
        if text == u.last_partial_text:
            return []
        u.last_partial_text = text
        u.revision += 1
        all_words = tuple(committed) + tuple(tail) if self.options.word_timestamps else ()
        stable_count = len(committed) if self.options.word_timestamps else 0
        return [Partial(u.id, u.revision, text, join_words(committed), all_words, stable_count)]

    # -- eager end of turn --------------------------------------------------------------------
    def _eager_check(self) -> list[AsrEvent]:
        """After ``eager_ms`` of silence inside an utterance, an eager decode is due; speech again
        withdraws what it gave (TurnResumed) and allows another after the next pause."""
        u, eager_ms = self._active, self.options.eager_ms
        if u is None or not 0 < eager_ms < self.options.end_of_speech_ms:
            return []
        silence = self._vad.silence_ms
        if silence >= eager_ms:
            if not u.eager:
                u.eager = "due"
            return []
        resumed, u.eager = u.eager == "sent", ""
        return [TurnResumed(u.id, round(self.audio_time_s, 3))] if resumed else []

    def _eager_final(self, request: DecodeRequest, before: str | None) -> list[AsrEvent]:
        """The eager decode's hypothesis, if the pause still holds and it is stable: it only adds
        words to the previous partial's (its last word may be completed)."""
        u = self._active
        if u is None or u.id != request.utterance or u.eager != "due":
            return []
        words = [*u.agreement.committed, *u.agreement.tail]
        text = join_words(words)
        old, new = _plain_words(before or ""), _plain_words(text)
        if not new or new[: max(0, len(old) - 1)] != old[:-1]:
            u.eager = "tried"
            return []
        u.eager = "sent"
        language = u.language or self._language.language or self.options.language
        return [EagerFinal(u.id, text, tuple(words) if self.options.word_timestamps else (), language,
                           round(u.language_probability, 3), words[0].start_s, words[-1].end_s)]

    # -- the final's decode in the pause ---------------------------------------------------------
    def _early_final_check(self) -> None:
        """In a pause of ``end_of_speech_ms - final_lookahead_ms`` (at least ``hangover_ms``: the
        final's audio is all there), the final's decode may start; voice again drops it.

        Why: the final otherwise waits for the whole end-of-speech silence *and then* a decode;
        started in the pause, the same decode of the same audio is usually done when the
        silence is. Partials stop meanwhile (decoding silence adds nothing)."""
        u = self._active
        if u is None or self.options.final_lookahead_ms <= 0:
            return
        voiced_end = self._vad.last_voiced_end_s
        if u.early is not None:
            if self._vad.silence_ms == 0 or voiced_end != u.early.speech_end_s:
                u.early = None  # speech came back: a decode in flight is dropped when it returns
            return
        wait_ms = max(self.options.hangover_ms, self.options.end_of_speech_ms - self.options.final_lookahead_ms)
        eager_wait_ms = self._eager_decode_ms()
        if eager_wait_ms is not None:
            wait_ms = min(wait_ms, eager_wait_ms)
        if self._vad.silence_ms < wait_ms or voiced_end <= u.start_s:
            return
        end = min(self.audio_time_s, voiced_end + self.options.hangover_ms / 1000.0)
        u.early = EarlyFinal(speech_end_s=voiced_end, end_s=end)

    def _eager_decode_ms(self) -> int | None:
        """With an eager end of turn, the silence after which the pause's final decode starts
        (``_EAGER_MIN_TAIL_MS``); None without one, or without decodes in the pause."""
        eager_ms = self.options.eager_ms
        if not 0 < eager_ms < self.options.end_of_speech_ms or self.options.final_lookahead_ms <= 0:
            return None
        return max(_EAGER_MIN_TAIL_MS, eager_ms // 2)

    def _pause_decode_soon(self) -> bool:
        """With an eager end of turn, no partial starts in the last moments before the pause's
        final decode is due: that decode would wait behind it (LJ001-0020: a partial started 110 ms
        into the pause put the eager final 0.17 s later). Speech coming back makes one due at once."""
        wait_ms = self._eager_decode_ms()
        return wait_ms is not None and self._vad.silence_ms >= wait_ms // 2

    def _apply_early(self, u: Utterance, words: list[Word], prefixed: bool) -> list[AsrEvent]:
        early = u.early
        if early is None or not early.requested:
            return []  # speech came back while it ran
        early.words = _final_words(words, early.speech_end_s + _AFTER_SPEECH_S)
        early.short = prefixed and stops_short(early.words, u.agreement.committed, early.speech_end_s)
        if u is self._active:
            return self._eager_from_early()  # held until the end of speech is declared
        u.early = None
        if not _heard_this_end(early, u):
            return []  # it ended elsewhere (a cut, audio_end): the usual final decode follows
        if early.short:
            u.first_final = early.words  # stays ended: the retry is the next request
            return []
        self._ended.remove(u)
        return [self._final(u, early.words)]

    def _final_or_retry(self, u: Utterance, request: DecodeRequest, words: list[Word]) -> list[AsrEvent]:
        """The final, unless its decode stopped short of the speech with a forced prefix: then
        the same audio is decoded once more without it (:mod:`.short_final`)."""
        if u.first_final is not None:
            words = choose_final(u.first_final, after_committed(words, u.agreement.committed))
        elif request.prefix and stops_short(words, u.agreement.committed, u.speech_end_s):
            u.first_final = words
            return []
        self._ended.remove(u)
        return [self._final(u, words)]

    def _eager_from_early(self) -> list[AsrEvent]:
        """An eager final due while the pause's final decode is held is that decode: exactly the
        final this utterance gets if the speech does not come back."""
        u = self._active
        if u is None or u.eager != "due" or u.early is None or u.early.words is None:
            return []
        words = [*u.agreement.committed, *u.early.words]
        u.eager = "sent" if words else "tried"
        if not words:
            return []
        language = u.language or self._language.language or self.options.language
        return [EagerFinal(u.id, join_words(words), tuple(words) if self.options.word_timestamps else (), language,
                           round(u.language_probability, 3), words[0].start_s, words[-1].end_s)]

    # -- internals ----------------------------------------------------------------------------
    def _start_utterance(self, start_s: float) -> SpeechStarted:
        start = max(start_s, self._buf.start_s, 0.0)
        if self._ended and self._ended[-1].end_s is not None:
            start = max(start, self._ended[-1].end_s)
        u = Utterance(id=self._next_id, start_s=start, window_start_s=start, decoded_until_s=start)
        self._language.new_utterance()
        self._next_id += 1
        self._active = u
        return SpeechStarted(u.id, round(start, 3))

    def _end_utterance(
        self, speech_end_s: float, reason: str, hangover: bool = True, tail: bool = False
    ) -> list[AsrEvent]:
        """SpeechEnded; the final follows from a decode, or at once when there is nothing to hear.
        ``tail``: the audio ends here, so the final hears what follows the speech (up to
        ``_END_OF_AUDIO_TAIL_S``) and keeps the words said in it."""
        u = self._active
        assert u is not None  # callers check; internal invariant, not user input
        pad = self.options.hangover_ms / 1000.0 if hangover else 0.0
        if tail:
            pad = max(pad, min(_END_OF_AUDIO_TAIL_S, self.audio_time_s - speech_end_s))
        u.end_s = min(self.audio_time_s, max(speech_end_s + pad, u.start_s))
        u.speech_end_s = max(speech_end_s, u.start_s) if hangover else None
        if u.speech_end_s is not None:
            u.words_until_s = u.end_s if tail else u.speech_end_s + _AFTER_SPEECH_S
        u.reason = reason
        self._active = None
        ended = SpeechEnded(u.id, round(max(speech_end_s, u.start_s), 3))
        early = u.early
        if early is not None and not _heard_this_end(early, u):
            u.early = early = None  # it heard other audio than this end: decode the final anew
        if early is not None and early.words is not None:
            u.early = None
            if early.short:  # decoded in the pause, but stopped short: the retry is due
                u.first_final = early.words
                self._ended.append(u)
                return [ended]
            return [ended, self._final(u, early.words)]  # decoded in the pause already
        if early is not None and not early.requested:
            u.early = None
        if u.end_s - u.window_start_s < _MIN_DECODE_S and not u.agreement.tail:
            return [ended, self._final(u, [])]  # a sliver (cut or audio_end): no decode, no guesses
        committed = u.agreement.committed
        if reason == "max_length" and committed and u.end_s <= committed[-1].end_s:
            # cut right after the last committed word: every word before the cut is known, and the
            # words after it are heard again by the next utterance. A decode would add nothing but
            # hold up the next utterance's decodes (1.5-3 s of lag every 30 s of unpaused speech).
            return [ended, self._final(u, [])]
        self._ended.append(u)  # (an early decode still in flight becomes its final when it returns)
        return [ended]

    def _find(self, utterance: int) -> Utterance | None:
        if self._active is not None and self._active.id == utterance:
            return self._active
        return next((u for u in self._ended if u.id == utterance), None)

    def _choose_carry(self, u: Utterance) -> None:
        """Once, at an utterance's first decode (the previous final is out by then: finals go
        first): put the previous final's last words in front of its window (:mod:`.carry`), when
        they are in the language it is decoded in."""
        if u.carry is not None:
            if u.carry and u.agreement.committed:  # started right: the carried audio is not needed
                u.window_start_s = max(u.window_start_s, u.start_s)  # (its words become the prompt)
            return
        u.carry, u.carry_context = (), self._context
        language = self._language.decode_language() if self._language.settled else None
        if language is None or language != self._last_language:
            return
        carry = carried_words(self._last_final, u.start_s, self._buf.start_s)
        if not carry:
            return
        u.carry = carry
        u.carry_context = self._context[: max(0, len(self._context) - len(join_words(carry)))].rstrip()
        u.window_start_s = min(u.window_start_s, carry[0].start_s - 0.05)

    def _request(self, u: Utterance, end_s: float, kind: str, prefix: bool = True) -> DecodeRequest:
        """The decode of ``u`` up to ``end_s``; ``prefix=False``: the committed words inside the
        window are given as prompt only, not forced (a final's retry)."""
        start = u.window_start_s
        back = self.options.final_context_s if kind == "final" else self.options.committed_context_s
        if back > 0 and u.agreement.committed:  # the committed words before it become the prompt
            start = max(start, min(u.agreement.committed[-1].end_s - back, end_s - _MIN_DECODE_S))
        committed = [*(u.carry or ()), *u.agreement.committed]
        inside = next((i for i, w in enumerate(committed) if w.end_s > start + 0.05), len(committed))
        if not prefix:
            inside = len(committed)
        context = u.carry_context if u.carry is not None else self._context
        prompt = " ".join(filter(None, [context, join_words(committed[:inside])]))[-_PROMPT_CHARS:]
        u.decoded_until_s = max(u.decoded_until_s, end_s)
        detection = self._language.detection(kind, end_s - start)
        return DecodeRequest(
            audio=self._buf.slice(start, end_s),
            offset_s=start,
            prompt=prompt,
            language=None if detection in ("quick", "full") else self._language.decode_language(),
            task=self.options.task,
            word_timestamps=True,
            kind="final" if kind == "final" else "partial",
            stream_id=self.stream_id,
            utterance=u.id,
            prefix=join_words(committed[inside:]),
            detect_language=detection == "check",
            quick_detection=detection == "quick",
            languages=self.options.languages,
        )

    def _learn_language(self, u: Utterance, request: DecodeRequest, result: DecodeResult) -> None:
        if request.language is None or request.detect_language:
            audio_s = len(request.audio) / SAMPLE_RATE
            heard = sum(len(seg.words) for seg in result.segments)
            self._language.observe(result.language, result.language_probability, audio_s, request.kind,
                                   reliable=not request.quick_detection, words=heard)
        if request.language is None:  # decoded in the language just detected
            u.language, u.language_probability = result.language, result.language_probability
        else:
            u.language, u.language_probability = request.language, self._language.probability

    def _final(self, u: Utterance, words: list[Word]) -> Final:
        u.agreement.finish(words)
        committed = list(u.agreement.committed)
        end = u.end_s if u.end_s is not None else self.audio_time_s
        language = u.language or self._language.language or self.options.language
        text = join_words(committed)
        if text:
            self._context = (self._context + " " + text).strip()[-_PROMPT_CHARS:]
            self._last_final, self._last_language = tuple(committed), language
        return Final(
            utterance=u.id,
            text=text,
            words=tuple(committed) if self.options.word_timestamps else (),
            language=language,
            language_probability=round(u.language_probability, 3),
            start_s=committed[0].start_s if committed else u.start_s,
            end_s=committed[-1].end_s if committed else end,
            reason=u.reason,
        )

    def _trim(self) -> None:
        """Forget audio no decode can need again."""
        keep = [u.window_start_s for u in self._ended]
        if self._active is not None:  # an utterance not decoded yet may still take on a carry
            keep.append(self._active.window_start_s - (CARRY_S if self._active.carry is None else 0.0))
        horizon = min(keep) if keep else self.audio_time_s - (CARRY_S + 1.0)  # a carry's audio
        self._buf.trim_before(max(0.0, horizon - 0.05))


def _heard_this_end(early: EarlyFinal, u: Utterance) -> bool:
    """Is the decode started in the pause the final of ``u`` as it ended? The same speech end,
    and the same audio; or, after silence (words after the speech are dropped either way), an
    eager decode's shorter tail (``_EAGER_MIN_TAIL_MS`` of the ``hangover_ms``)."""
    if early.speech_end_s != u.speech_end_s:
        return False
    if early.end_s == u.end_s:
        return True
    return u.reason == "silence" and u.end_s is not None and early.end_s < u.end_s


def _final_words(words: list[Word], until_s: float | None) -> list[Word]:
    """A final decode's words that were said: none starting after ``until_s`` (the speech's end,
    or the end of the audio), no unheard tail."""
    if until_s is not None:
        words = [w for w in words if w.start_s <= until_s]
    return cut_unheard_tail(words)


def _plain_words(text: str) -> list[str]:
    """Lower-case words without punctuation, for comparing two hypotheses."""
    return "".join(c if c.isalnum() or c.isspace() else " " for c in text.lower()).split()
