"""A recognition stream whose options can change while it runs, from the next utterance on.

Why a wrapper: :class:`~streamvoice.asr.stream.RecognizerStream` fixes its options (VAD,
language policy, task) when it is built, and a session's ``configure`` must change them without
touching the utterance in progress. So :meth:`reconfigure` stages the new options; at the first
moment no utterance is open the current stream is closed (its due finals still run, first) and a
fresh stream with the new options continues on the same time line: events of every stream are
shifted to session time and session utterance numbers, so the owner sees one stream.
Pure: no threads, no asyncio (layer 1, like the stream itself).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from streamvoice.asr import events as ev
from streamvoice.asr.backend import DecodeRequest, DecodeResult
from streamvoice.asr.options import StreamOptions
from streamvoice.asr.stream import RecognizerStream


@dataclass(slots=True)
class _Part:
    """One stream and where its time line and utterance numbers start in the session's."""

    stream: RecognizerStream
    base_s: float
    base_utterance: int
    model: str  # the ASR model this stream's decodes run on


class ReconfigurableStream:
    """The owner's view of one session's recognition (same methods as ``RecognizerStream``)."""

    def __init__(self, options: StreamOptions, stream_id: str = "", model: str = "") -> None:
        self.stream_id = stream_id
        self._current = _Part(RecognizerStream(options, stream_id), 0.0, 0, model)
        self._draining: list[_Part] = []  # closed streams whose finals are still due, oldest first
        self._pending: tuple[StreamOptions, str] | None = None
        self._open = False  # an utterance of the current stream has started and not ended
        self._utterances = 0  # utterances started so far, all streams
        self._in_flight: dict[int, _Part] = {}  # id(request) -> the part that made it
        self._interval_ms: int | None = None  # degradation overrides, carried to each new stream
        self._partials: bool | None = None

    # -- options --------------------------------------------------------------------------------
    @property
    def options(self) -> StreamOptions:
        """The options in effect for the current (or next) utterance's stream."""
        return self._current.stream.options

    @property
    def model(self) -> str:
        """The model of the current (or next) utterance."""
        return self._current.model

    @property
    def staged(self) -> tuple[StreamOptions, str] | None:
        """Options and model waiting for the open utterance to end."""
        return self._pending

    def reconfigure(self, options: StreamOptions, model: str | None = None) -> None:
        """Use ``options`` (and ``model``) from the next utterance (now, if none is open)."""
        wanted = (options, self.model if model is None else model)
        self._pending = None if wanted == (self.options, self.model) else wanted
        self._switch_if_idle()

    def model_of(self, request: DecodeRequest) -> str:
        """The model a request from :meth:`next_request` must be decoded on."""
        return self._in_flight[id(request)].model

    # -- the RecognizerStream surface -------------------------------------------------------------
    @property
    def audio_time_s(self) -> float:
        return self._current.base_s + self._current.stream.audio_time_s

    @property
    def pending_audio_s(self) -> float:
        return sum(p.stream.pending_audio_s for p in (*self._draining, self._current))

    @property
    def finished(self) -> bool:
        return not self._draining and self._current.stream.finished

    def push_audio(self, samples: np.ndarray) -> list[ev.AsrEvent]:
        events = self._shift(self._current, self._current.stream.push_audio(samples))
        self._switch_if_idle()
        return events

    def end_audio(self) -> list[ev.AsrEvent]:
        events = self._shift(self._current, self._current.stream.end_audio())
        self._switch_if_idle()
        return events

    def close(self) -> list[ev.AsrEvent]:
        self._pending = None
        return self._shift(self._current, self._current.stream.close())

    def set_partial_interval_ms(self, ms: int) -> None:
        self._interval_ms = ms
        self._current.stream.set_partial_interval_ms(ms)

    def set_partials_enabled(self, on: bool) -> None:
        self._partials = on
        self._current.stream.set_partials_enabled(on)

    def drop_pending(self, max_s: float) -> float:
        return self._current.stream.drop_pending(max_s)

    def next_request(self) -> DecodeRequest | None:
        """The due decode: finals of closed streams first, then the current stream's."""
        self._draining = [p for p in self._draining if not p.stream.finished]
        for part in (*self._draining, self._current):
            request = part.stream.next_request()
            if request is not None:
                self._in_flight[id(request)] = part
                return request
        return None

    def apply(self, request: DecodeRequest, result: DecodeResult) -> list[ev.AsrEvent]:
        part = self._in_flight.pop(id(request))
        events = self._shift(part, part.stream.apply(request, result))
        self._draining = [p for p in self._draining if not p.stream.finished]
        return events

    # -- machinery ------------------------------------------------------------------------------
    def _switch_if_idle(self) -> None:
        if self._pending is None or self._open or self._current.stream.finished:
            return
        old = self._current
        old.stream.close()  # no utterance is open: nothing to finish, only finals already due
        if not old.stream.finished:
            self._draining.append(old)
        options, model = self._pending
        stream = RecognizerStream(options, self.stream_id)
        if self._interval_ms is not None:
            stream.set_partial_interval_ms(self._interval_ms)
        if self._partials is not None:
            stream.set_partials_enabled(self._partials)
        self._current = _Part(stream, old.base_s + old.stream.audio_time_s, self._utterances, model)
        self._pending = None

    def _shift(self, part: _Part, events: list[ev.AsrEvent]) -> list[ev.AsrEvent]:
        if part is self._current:
            for e in events:
                if isinstance(e, ev.SpeechStarted):
                    self._open = True
                    self._utterances += 1
                elif isinstance(e, ev.SpeechEnded):
                    self._open = False
        if part.base_s == 0.0 and part.base_utterance == 0:
            return events
        return [_shifted(e, part.base_s, part.base_utterance) for e in events]


def _shifted(e: ev.AsrEvent, dt: float, du: int) -> ev.AsrEvent:
    """The event on the session's time line and utterance numbers."""
    if isinstance(e, ev.SpeechStarted | ev.SpeechEnded | ev.TurnResumed):
        return replace(e, utterance=e.utterance + du, time_s=e.time_s + dt)
    words = tuple(replace(w, start_s=w.start_s + dt, end_s=w.end_s + dt) for w in e.words)
    if isinstance(e, ev.Partial):
        return replace(e, utterance=e.utterance + du, words=words)
    return replace(e, utterance=e.utterance + du, words=words, start_s=e.start_s + dt, end_s=e.end_s + dt)
