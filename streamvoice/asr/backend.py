"""The one small interface every Whisper backend implements (CTranslate2 now).

Backends are synchronous and know nothing of streams: audio in, words out. They are called from
the engine's worker thread, never from the event loop. Each declares what it can do in a
:class:`~streamvoice.capabilities.Capabilities` record; :mod:`streamvoice.asr.loader` picks one
by ``asr.backend``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from streamvoice.asr.events import Word
from streamvoice.capabilities import Capabilities

ASR_SAMPLE_RATE = 16_000  # Whisper hears 16 kHz mono; every stream and request is at this rate


@dataclass(frozen=True, slots=True)
class DecodeRequest:
    """One decode of a window of audio, produced by a stream and run by the engine."""

    audio: np.ndarray = field(repr=False)  # float32 mono at ASR_SAMPLE_RATE, at most 30 s
    offset_s: float  # stream time of audio[0]; word times returned are stream times
    prompt: str  # committed text to condition on ("" for none)
    language: str | None  # ISO code, or None to detect
    task: Literal["transcribe", "translate"]
    word_timestamps: bool
    kind: Literal["partial", "final"]  # final decodes run before partials
    stream_id: str = ""  # who asked (for fairness); set by the owner
    utterance: int = 0
    prefix: str = ""  # committed words heard in this window: forced as the transcript's start
    detect_language: bool = False  # with ``language`` given: report another language only if a full detection says so
    quick_detection: bool = False  # with ``language`` None: detect on the shortened window (display only)
    languages: tuple[str, ...] = ()  # detection chooses among these only (empty: any)


@dataclass(frozen=True, slots=True)
class Segment:
    """Decoded text of a window; with a prefix, only what follows it (words and text)."""

    text: str
    start_s: float
    end_s: float
    words: tuple[Word, ...]
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


@dataclass(frozen=True, slots=True)
class DecodeResult:
    segments: tuple[Segment, ...]
    language: str  # detected (when detection ran) or the language asked for
    language_probability: float  # of the detection, among ``languages`` if given; 1.0 when not detected
    compute_s: float  # wall seconds the backend spent


class AsrBackend(Protocol):
    """A loaded Whisper model. ``decode`` may be called from one worker thread at a time."""

    name: str  # the ``asr.backend`` value that loads it
    multilingual: bool

    @property
    def capabilities(self) -> Capabilities: ...

    def decode(self, request: DecodeRequest) -> DecodeResult: ...

    def decode_batch(self, requests: list[DecodeRequest]) -> list[DecodeResult]:
        """Several windows at once; backends that gain nothing loop over ``decode``."""
        ...
