"""FakeEngine: a model-free stand-in for router unit tests and the server overhead benchmark ONLY.

ASR "hears" a scripted word per ``word_s`` seconds of window audio; TTS makes a quiet tone of
``ms_per_char`` per character. Optional delays simulate compute without using CPU.
Never used by the real server.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import replace

import numpy as np

from streamvoice.asr.backend import ASR_SAMPLE_RATE, DecodeRequest, DecodeResult, Segment
from streamvoice.asr.events import Word
from streamvoice.capabilities import Capabilities
from streamvoice.tts.types import PhonemizedChunk, SynthesisResult, WordTiming

_NO_AUDIO = np.zeros(0, np.float32)


class FakeEngine:
    """Implements the :class:`~streamvoice.engine.engine.SpeechEngine` interface without models."""

    def __init__(
        self,
        *,
        words: tuple[str, ...] = ("hello", "world"),
        word_s: float = 0.4,
        asr_delay_s: float = 0.0,
        tts_delay_s: float = 0.0,
        ms_per_char: float = 60.0,
        sample_rate: int = 24000,
        voices: frozenset[str] | None = None,
        asr_models: frozenset[str] | None = None,
    ) -> None:
        self.words = words
        self.word_s = word_s
        self.asr_delay_s = asr_delay_s
        self.tts_delay_s = tts_delay_s
        self.ms_per_char = ms_per_char
        self._rate = sample_rate
        self._voices = voices
        self._asr_models = asr_models
        self.asr_calls = 0
        self.tts_calls = 0
        # the latest decodes (model asked for, request) and syntheses (voice, speed), for tests; bounded
        self.decoded: deque[tuple[str | None, DecodeRequest]] = deque(maxlen=64)
        self.spoken: deque[tuple[str, float]] = deque(maxlen=64)
        self.cancelled: list[tuple[str, int | None]] = []

    asr_ready = True
    tts_ready = True

    @property
    def voices(self) -> frozenset[str] | None:
        return self._voices

    @property
    def asr_models(self) -> frozenset[str] | None:
        return self._asr_models

    def asr_capabilities(self, model: str | None = None) -> Capabilities | None:
        return Capabilities(sample_rate=ASR_SAMPLE_RATE, word_timings=True)

    @property
    def tts_sample_rate(self) -> int:
        return self._rate

    async def start(self) -> None:
        return None

    def close(self, timeout: float = 30.0) -> bool:
        return True

    def queue_depths(self) -> dict[str, int]:
        return {}

    async def asr(self, request: DecodeRequest, *, model: str | None = None) -> DecodeResult:
        self.asr_calls += 1
        self.decoded.append((model, replace(request, audio=_NO_AUDIO)))  # kept without its audio
        if self.asr_delay_s:
            await asyncio.sleep(self.asr_delay_s)
        duration = len(request.audio) / ASR_SAMPLE_RATE
        n = int(duration / self.word_s)
        said = len(request.prefix.split())  # like a real backend: only the words after the prefix
        words = tuple(
            Word(self.words[i % len(self.words)], request.offset_s + i * self.word_s,
                 request.offset_s + (i + 0.8) * self.word_s, 0.9)
            for i in range(said, n)
        )
        text = " ".join(w.word for w in words)
        segs = (Segment(text, request.offset_s, request.offset_s + duration, words, -0.1, 0.01, 1.2),) if words else ()
        return DecodeResult(segs, request.language or "en", 1.0, 0.0)

    async def synthesize(
        self, chunk: PhonemizedChunk, voice: str, speed: float, *, first: bool, session: str, turn: int
    ) -> SynthesisResult:
        self.tts_calls += 1
        self.spoken.append((voice, speed))
        started = time.perf_counter()
        if self.tts_delay_s:
            await asyncio.sleep(self.tts_delay_s)
        n = max(1, int(len(chunk.text) * self.ms_per_char / 1000.0 / speed * self._rate))
        t = np.arange(n, dtype=np.float32) / self._rate
        audio = (0.1 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)
        words_list = chunk.text.split()
        step = n / self._rate / max(1, len(words_list))
        timings = tuple(WordTiming(w, i * step, (i + 1) * step) for i, w in enumerate(words_list))
        return SynthesisResult(audio, self._rate, timings, time.perf_counter() - started)

    async def phonemize(self, text: str, voice: str, *, session: str, turn: int) -> list[PhonemizedChunk]:
        clean = " ".join(text.split())
        if not any(ch.isalnum() for ch in clean):
            raise ValueError(f"nothing speakable in {len(text)} characters")
        spans = tuple((w, 0, 0) for w in clean.split())
        return [PhonemizedChunk(clean, clean.lower(), spans, "en-us")]

    def cancel(self, session: str, turn: int | None = None) -> None:
        self.cancelled.append((session, turn))


