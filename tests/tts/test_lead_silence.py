"""The leading silence of a chunk is dropped before framing; word times move with it."""

from __future__ import annotations

import numpy as np
import pytest

from streamvoice.tts.lead_silence import MARGIN_MS, leading_silence
from streamvoice.tts.turn import TurnSynthesisPlan
from streamvoice.tts.types import SynthesisResult, WordTiming

RATE = 24_000


def _kokoro_like(zero_s: float = 0.2, floor_s: float = 0.1, voice_s: float = 0.6) -> np.ndarray:
    """Digital zero, then a floor ~70 dB down, then a tone: the shape of a Kokoro chunk's start."""
    rng = np.random.default_rng(0)
    floor = (rng.standard_normal(int(floor_s * RATE)) * 1e-4).astype(np.float32)
    t = np.arange(int(voice_s * RATE)) / RATE
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    return np.concatenate([np.zeros(int(zero_s * RATE), np.float32), floor, tone])


def test_cut_is_margin_before_first_sound() -> None:
    cut = leading_silence(_kokoro_like(), RATE)
    onset = int(0.3 * RATE)
    assert cut == pytest.approx(onset - MARGIN_MS / 1000 * RATE, abs=240)


def test_never_past_first_word_and_nothing_from_silence() -> None:
    assert leading_silence(_kokoro_like(), RATE, first_word_s=0.1) == int(0.1 * RATE)
    assert leading_silence(np.zeros(RATE, np.float32), RATE) == 0
    assert leading_silence(np.zeros(10, np.float32), RATE) == 0
    tone_from_start = _kokoro_like(zero_s=0.0, floor_s=0.0)
    assert leading_silence(tone_from_start, RATE) == 0


def test_plan_drops_each_chunks_lead_and_shifts_its_words() -> None:
    plan = TurnSynthesisPlan(turn=1, sample_rate=RATE, frame_ms=20)
    jobs = plan.push("Sure, I can help you. With that right away. ") + plan.finish()
    assert len(jobs) == 2
    first = _kokoro_like()  # 0.9 s, sound from 0.3 s
    second = _kokoro_like(zero_s=0.3, floor_s=0.0, voice_s=0.5)  # 0.8 s, sound from 0.3 s
    frames = plan.accept(jobs[0], SynthesisResult(first, RATE, (WordTiming("Sure", 0.35, 0.6),), 0.0))
    frames += plan.accept(jobs[1], SynthesisResult(second, RATE, (WordTiming("With", 0.32, 0.5),), 0.0))
    margin = MARGIN_MS / 1000
    cut1, cut2 = 0.3 - margin, 0.3 - margin
    pcm = np.frombuffer(b"".join(f.pcm for f in frames), dtype="<i2")
    assert pcm.size == pytest.approx((0.9 - cut1 + 0.8 - cut2) * RATE, abs=500)
    # the first sound is heard `margin` after the first sample, not 0.3 s after it
    heard = int(np.argmax(np.abs(pcm) > 300))
    assert heard / RATE == pytest.approx(margin, abs=0.012)
    chunk2 = next(f for f in frames if f.chunk == 1)
    assert chunk2.offset_ms / 1000 == pytest.approx(0.9 - cut1, abs=0.011)
    assert frames[0].words[0].start_s == pytest.approx(0.35 - cut1, abs=0.011)
    assert chunk2.words[0].start_s == pytest.approx(0.9 - cut1 + 0.32 - cut2, abs=0.02)
    assert plan.audio_s == pytest.approx(pcm.size / RATE, abs=0.001)
