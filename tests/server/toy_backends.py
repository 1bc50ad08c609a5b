"""A toy speech engine pair, written the way a new engine is added: this one adapter file.

ASR "hears" one word per half second of audio; TTS speaks each phoneme as 10 ms of a 16 kHz tone,
with no abort, two voices and word times. Nothing here is imported by streamvoice itself: the
test adds one line to each loader table (``ASR_BACKENDS``, ``TTS_BACKENDS``) to make it loadable.
"""

from __future__ import annotations

import numpy as np

from streamvoice.asr.backend import ASR_SAMPLE_RATE, DecodeRequest, DecodeResult, Segment
from streamvoice.asr.events import Word
from streamvoice.capabilities import Capabilities
from streamvoice.config import Config
from streamvoice.tts.backend import G2P, AbortHandle
from streamvoice.tts.types import PhonemizedChunk, SynthesisResult, WordTiming

TOY_RATE = 16_000
TOY_VOICES = ("toy_low", "toy_high")


class ToyAsr:
    name = "toy"
    multilingual = False
    capabilities = Capabilities(sample_rate=ASR_SAMPLE_RATE, languages=("en",), word_timings=True)

    def __init__(self, model: str) -> None:
        self.model = model

    def decode(self, request: DecodeRequest) -> DecodeResult:
        n = int(len(request.audio) / ASR_SAMPLE_RATE / 0.5)
        done = len(request.prefix.split())
        words = tuple(Word("toy", request.offset_s + 0.5 * i, request.offset_s + 0.5 * i + 0.4, 0.9)
                      for i in range(done, n))
        end = request.offset_s + len(request.audio) / ASR_SAMPLE_RATE
        text = " ".join(w.word for w in words)
        segments = (Segment(text, request.offset_s, end, words, -0.1, 0.0, 1.0),) if words else ()
        return DecodeResult(segments, "en", 1.0, 0.0)

    def decode_batch(self, requests: list[DecodeRequest]) -> list[DecodeResult]:
        return [self.decode(r) for r in requests]


class ToyG2P:
    """Letters are the phonemes; every word is one span."""

    def phonemize(self, text: str, voice: str) -> list[PhonemizedChunk]:
        words = [w for w in text.split() if any(c.isalnum() for c in w)]
        if not words:
            raise ValueError(f"nothing speakable in {text!r}")
        spans, at = [], 0
        for w in words:
            spans.append((w, at, at + len(w)))
            at += len(w) + 1
        return [PhonemizedChunk(" ".join(words), " ".join(words), tuple(spans), "en-us")]


class ToyTts:
    name = "toy"
    capabilities = Capabilities(sample_rate=TOY_RATE, voices=TOY_VOICES, languages=("en",), word_timings=True)

    def synthesize(self, chunk: PhonemizedChunk, voice: str, speed: float = 1.0,
                   abort: AbortHandle | None = None) -> SynthesisResult:
        step = int(TOY_RATE * 0.01 / speed)
        pitch = 200.0 if voice == "toy_low" else 400.0
        t = np.arange(len(chunk.phonemes) * step) / TOY_RATE
        audio = (0.2 * np.sin(2 * np.pi * pitch * t)).astype(np.float32)
        words = tuple(WordTiming(w, a * step / TOY_RATE, b * step / TOY_RATE) for w, a, b in chunk.word_spans)
        return SynthesisResult(audio, TOY_RATE, words, 0.0)

    def abort_handle(self) -> AbortHandle:
        raise NotImplementedError("the toy engine cannot abandon a synthesis (capabilities.abortable is False)")

    def validate_voice(self, voice: str) -> None:
        if voice not in TOY_VOICES:
            raise ValueError(f"unknown voice {voice!r}; the toy engine has {list(TOY_VOICES)}")

    def g2p(self) -> G2P:
        return ToyG2P()


def load_asr(config: Config, model: str) -> ToyAsr:
    return ToyAsr(model)


def load_tts(config: Config) -> ToyTts:
    return ToyTts()
