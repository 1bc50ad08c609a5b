"""A toy TTS backend that answers an ``early_audio`` chunk in two parts, as Kokoro's split graph does.

Each phoneme is 50 ms of a 24 kHz tone; the head is the first ``HEAD`` samples and the rest the
remainder, so head + rest are exactly the whole chunk's samples and a test can hold the parts
against the whole. ``hold_rest`` makes the rest's run wait until it is aborted (a cancel that
lands during the second window). ``split=False`` is a backend that ignores ``early_audio``.
"""

from __future__ import annotations

import threading

import numpy as np

from streamvoice.capabilities import Capabilities
from streamvoice.tts.backend import G2P, SynthesisAborted
from streamvoice.tts.types import PhonemizedChunk, SynthesisResult, WordTiming
from tests.server.toy_backends import ToyG2P

RATE = 24_000
STEP = 1_200  # samples per phoneme
HEAD = 9_120


class Abort:
    def __init__(self) -> None:
        self.aborted = False
        self.event = threading.Event()

    def abort(self) -> None:
        self.aborted = True
        self.event.set()


class SplitToy:
    name = "split-toy"
    capabilities = Capabilities(sample_rate=RATE, abortable=True, voices=("toy",), word_timings=True)

    def __init__(self, split: bool = True, hold_rest: bool = False) -> None:
        self.split = split
        self.hold_rest = hold_rest
        self.calls: list[str] = []  # "whole", "head", "rest"
        self.rest_started = threading.Event()
        self.rest_aborted = threading.Event()

    def audio(self, chunk: PhonemizedChunk) -> np.ndarray:
        t = np.arange(len(chunk.phonemes) * STEP) / RATE
        return (0.3 * np.sin(2 * np.pi * (150 + len(chunk.text)) * t)).astype(np.float32)

    def synthesize(self, chunk: PhonemizedChunk, voice: str, speed: float = 1.0,
                   abort: Abort | None = None) -> SynthesisResult:
        if abort is not None and abort.aborted:
            raise SynthesisAborted("aborted before it started")
        if chunk.resume is not None:
            self.calls.append("rest")
            self.rest_started.set()
            if self.hold_rest:
                assert abort is not None
                abort.event.wait(10.0)
                self.rest_aborted.set()
                raise SynthesisAborted("aborted during the rest")
            return SynthesisResult(chunk.resume[HEAD:], RATE, (), 0.0)
        audio = self.audio(chunk)
        words = tuple(WordTiming(w, a * STEP / RATE, b * STEP / RATE) for w, a, b in chunk.word_spans)
        if chunk.early_audio and self.split and audio.size > 2 * HEAD:
            self.calls.append("head")
            rest = PhonemizedChunk(chunk.text, chunk.phonemes, (), chunk.lang, resume=audio)
            return SynthesisResult(audio[:HEAD], RATE, words, 0.0, rest=rest)
        self.calls.append("whole")
        return SynthesisResult(audio, RATE, words, 0.0)

    def abort_handle(self) -> Abort:
        return Abort()

    def validate_voice(self, voice: str) -> None:
        if voice != "toy":
            raise ValueError(f"unknown voice {voice!r}")

    def g2p(self) -> G2P:
        return ToyG2P()
