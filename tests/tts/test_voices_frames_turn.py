"""Voices (with a synthetic voice folder), frames and the turn plan: pure, no models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from streamvoice.tts.frames import fade_edges, frame_audio
from streamvoice.tts.turn import ChunkJob, TurnSynthesisPlan
from streamvoice.tts.types import SynthesisResult, WordTiming
from streamvoice.tts.voices import UnknownVoiceError, VoiceBank, parse_voice_spec, voice_info


@pytest.fixture()
def bank(tmp_path: Path) -> VoiceBank:
    for i, name in enumerate(["af_heart", "am_adam", "bf_emma"]):
        table = np.full((510, 1, 256), float(i + 1), dtype=np.float32)
        table[:, 0, 0] = np.arange(510)
        table.tofile(tmp_path / f"{name}.bin")
    return VoiceBank(tmp_path)


def test_blend_weights_are_normalised(bank: VoiceBank) -> None:
    assert parse_voice_spec("af_heart:0.7,am_adam:0.3") == (("af_heart", 0.7), ("am_adam", 0.3))
    assert parse_voice_spec("af_heart:2,am_adam:2") == (("af_heart", 0.5), ("am_adam", 0.5))
    style = bank.style("af_heart:3,am_adam:1", 42)
    assert style.shape == (1, 256) and style.dtype == np.float32
    assert style[0, 1] == pytest.approx(0.75 * 1 + 0.25 * 2)
    assert style[0, 0] == pytest.approx(42.0)  # row chosen by phoneme count
    assert bank.style("af_heart", 10_000)[0, 0] == pytest.approx(509.0)


@pytest.mark.parametrize("spec", ["", "af_heart:", "af_heart:-1", "af_heart:x", ",", "af_heart:nan"])
def test_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_voice_spec(spec)


def test_unknown_voice_suggests(bank: VoiceBank) -> None:
    with pytest.raises(UnknownVoiceError, match=r"af_hart.*af_heart.*streamvoice voices"):
        bank.style("af_hart:0.5,am_adam:0.5", 10)


def test_voice_info() -> None:
    info = voice_info("bm_george")
    assert (info.language, info.gender, info.accent) == ("en-gb", "male", "British")
    assert voice_info("pf_dora").language == "pt-br"


def test_fade_and_frames() -> None:
    audio = np.ones(24_000, dtype=np.float32)
    faded = fade_edges(audio, 24_000, 5.0)
    assert faded[0] == 0.0 and faded[-1] == 0.0 and faded[12_000] == 1.0
    frames = frame_audio(faded, 24_000, 60)
    assert [f.size for f in frames[:2]] == [1440, 1440]
    assert sum(f.size for f in frames) == 24_000


def _result(seconds: float, words: tuple[WordTiming, ...] = ()) -> SynthesisResult:
    return SynthesisResult(np.full(int(seconds * 24_000), 0.1, np.float32), 24_000, words, 0.01)


def test_turn_plan_orders_offsets_and_shifts_words() -> None:
    plan = TurnSynthesisPlan(turn=7, sample_rate=16_000, frame_ms=100)
    jobs = plan.push("Hello there, friend of mine. And a second one. ")
    jobs += plan.finish()
    assert [j.text for j in jobs] == ["Hello there, friend of mine.", "And a second one."]
    assert plan.accept(jobs[1], _result(0.5, (WordTiming("And", 0.1, 0.2),))) == []  # held: chunk 0 first
    frames = plan.accept(jobs[0], _result(1.0))
    assert [f.chunk for f in frames][:1] == [0] and frames[-1].chunk == 1
    assert [f.seq for f in frames] == list(range(len(frames)))
    second = next(f for f in frames if f.chunk == 1)
    assert second.offset_ms == pytest.approx(1000.0)
    assert second.words[0].start_s == pytest.approx(1.1)
    assert all(f.sample_rate == 16_000 for f in frames)
    assert sum(f.samples for f in frames) == pytest.approx(24_000, abs=4)
    assert plan.done


def test_turn_plan_cancel_discards_late_results() -> None:
    plan = TurnSynthesisPlan(turn=1)
    jobs = plan.push("One sentence here. Two sentence here. Three")
    plan.cancel()
    assert not plan.wanted(jobs[0])
    assert plan.accept(jobs[0], _result(0.3)) == []
    assert plan.push("more text. ") == []
    assert plan.done
    assert plan.accept(ChunkJob(2, 0, "other turn"), _result(0.3)) == []
