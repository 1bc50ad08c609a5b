"""Plain data passed between the TTS pipeline, the engine and the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class WordTiming:
    word: str
    start_s: float  # from the start of this chunk's audio
    end_s: float


@dataclass(frozen=True, slots=True)
class PhonemizedChunk:
    """One speakable chunk after G2P: what Kokoro needs, plus word boundaries for timings."""

    text: str  # the graphemes this chunk speaks
    phonemes: str  # Kokoro phoneme string (<= 510 symbols)
    word_spans: tuple[tuple[str, int, int], ...]  # (word, first phoneme index, end phoneme index)
    lang: str  # e.g. "en-us", "en-gb", "es"
    # The turn's first audio waits on this chunk: a backend that can may answer with the audio's
    # start only (``SynthesisResult.rest`` then says what to synthesize next); others ignore it.
    early_audio: bool = False
    # Set only on a ``rest`` chunk: the backend's own state to continue from (opaque to callers).
    resume: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class SynthesisResult:
    audio: np.ndarray = field(repr=False)  # float32 mono at sample_rate
    sample_rate: int  # 24000 for Kokoro
    words: tuple[WordTiming, ...]  # empty when durations are unknown
    compute_s: float
    # Not None: this is the chunk's first part; synthesizing ``rest`` gives the next part (same
    # backend, same voice and speed). The first part's words are the whole chunk's.
    rest: PhonemizedChunk | None = None
