"""Plain data passed between the TTS pipeline, the engine and the server."""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass(frozen=True, slots=True)
class SynthesisResult:
    audio: np.ndarray = field(repr=False)  # float32 mono at sample_rate
    sample_rate: int  # 24000 for Kokoro
    words: tuple[WordTiming, ...]  # empty when durations are unknown
    compute_s: float
