"""A chunk given in parts frames as the whole chunk would; the two-window plan keeps playback fed. No models."""

from __future__ import annotations

import numpy as np
import pytest

from streamvoice.tts.first_window import VocoderPace, plan_two_windows
from streamvoice.tts.frames import ChunkFramer, chunk_to_pcm_frames
from streamvoice.tts.turn import TurnSynthesisPlan
from streamvoice.tts.types import PhonemizedChunk, SynthesisResult, WordTiming
from streamvoice.tts.vocoder_windows import FRAME_SAMPLES, SAMPLE_RATE


def _speech(n: int, seed: int = 0) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    noise = np.random.default_rng(seed).normal(0, 0.05, n)
    return (0.4 * np.sin(2 * np.pi * 180 * t) + noise).astype(np.float32)


@pytest.mark.parametrize("out_rate", [24_000, 16_000, 48_000])
@pytest.mark.parametrize("cut", [1, 9120, 20_000])
def test_parts_frame_exactly_as_the_whole_chunk(out_rate: int, cut: int) -> None:
    audio = _speech(43_800)
    whole = chunk_to_pcm_frames(audio, SAMPLE_RATE, out_rate, 60)
    framer = ChunkFramer(SAMPLE_RATE, out_rate, 60)
    parts = framer.push(audio[:cut], last=False) + framer.push(audio[cut:], last=True)
    assert b"".join(parts) == b"".join(whole)  # no fade, filter edge or gap at the internal join
    assert [len(p) for p in parts] == [len(p) for p in whole]  # only the chunk's last frame is short


def test_one_part_is_the_old_framing_and_a_closed_framer_refuses_more() -> None:
    audio = _speech(5_000)
    framer = ChunkFramer(SAMPLE_RATE, SAMPLE_RATE, 60, encoding="pcm_f32le")
    assert framer.push(audio, last=True) == chunk_to_pcm_frames(audio, SAMPLE_RATE, SAMPLE_RATE, 60,
                                                                encoding="pcm_f32le")
    with pytest.raises(ValueError):
        framer.push(audio, last=True)


def _result(audio: np.ndarray, words: tuple[WordTiming, ...] = (), more: bool = False) -> SynthesisResult:
    rest = PhonemizedChunk("x", "x", (), "en-us", resume=object()) if more else None
    return SynthesisResult(audio, SAMPLE_RATE, words, 0.01, rest=rest)


def _plan_frames(parts_of_first: list[np.ndarray], second: np.ndarray, rate: int) -> list:  # type: ignore[type-arg]
    plan = TurnSynthesisPlan(turn=3, sample_rate=rate, frame_ms=60)
    jobs = plan.push("Sure I can help you with that right away. ")  # first chunk "Sure I can help you"
    jobs += plan.finish()
    assert len(jobs) == 2
    words = (WordTiming("Sure", 0.1, 0.3), WordTiming("help", 1.5, 1.7))
    frames = []
    held = plan.accept(jobs[1], _result(second, (WordTiming("with", 0.2, 0.4),)))
    assert held == []  # chunk 1 waits for chunk 0's last part
    for i, part in enumerate(parts_of_first):
        last = i == len(parts_of_first) - 1
        out = plan.accept(jobs[0], _result(part, words if i == 0 else (), more=not last))
        if not last:
            assert out and all(f.chunk == 0 for f in out) and not plan.done
        frames += out
    assert plan.done
    return frames


@pytest.mark.parametrize("rate", [24_000, 16_000])
def test_turn_plan_sends_a_split_first_chunk_like_the_whole_one(rate: int) -> None:
    first, second = _speech(43_800, 1), _speech(30_000, 2)
    whole = _plan_frames([first], second, rate)
    split = _plan_frames([first[:9_120], first[9_120:]], second, rate)
    assert [f.pcm for f in split] == [f.pcm for f in whole]
    assert [(f.seq, f.chunk, f.offset_ms, f.text, f.words) for f in split] == \
        [(f.seq, f.chunk, f.offset_ms, f.text, f.words) for f in whole]
    assert split[0].text.startswith("Sure") and [w.word for w in split[0].words] == ["Sure", "help"]
    assert all(not f.text and not f.words for f in split[1:] if f.chunk == 0)
    start_1 = next(f for f in split if f.chunk == 1)
    assert start_1.words[0].start_s == pytest.approx(43_800 / SAMPLE_RATE + 0.2, abs=1e-3)


def test_cancel_between_the_parts_drops_the_rest() -> None:
    plan = TurnSynthesisPlan(turn=1)
    (job,) = plan.push("Hello there, friend. ")
    assert plan.accept(job, _result(_speech(9_120), more=True))
    plan.cancel()
    assert plan.accept(job, _result(_speech(20_000))) == []
    assert plan.done


@pytest.mark.parametrize("pace", [0.006, 0.0125, 0.02])
@pytest.mark.parametrize("frames", [60, 73, 110, 300])
def test_the_head_covers_the_remainders_vocoding(pace: float, frames: int) -> None:
    two = plan_two_windows(frames, min_head=16, seconds_per_frame=pace, head_context=8, rest_context=8,
                           crossfade=960, safety=0.8)
    if two is None:  # only when the head would cost most of the chunk
        need = (pace * (frames + 8) + 0.8 * 0.02) / (pace + 0.8 * 0.025)
        assert max(16, need) + 8 > 0.8 * frames
        return
    head, rest = two
    assert (head.start, head.lo, rest.end, rest.hi) == (0, 0, frames, frames)
    assert head.end == rest.start >= 16 and head.hi == head.end + 8 and rest.lo == rest.start - 8
    playback = (head.end * FRAME_SAMPLES - 480) / SAMPLE_RATE
    assert pace * (rest.hi - rest.lo) <= 0.8 * playback + 1e-9
    assert head.hi <= 0.8 * frames
    smaller = plan_two_windows(frames, 16, pace, 8, 8, 960, 0.8)
    assert smaller == two


def test_a_slower_machine_gets_a_longer_head() -> None:
    fast = plan_two_windows(200, 16, 0.008)
    slow = plan_two_windows(200, 16, 0.016)
    assert fast is not None and slow is not None and slow[0].end > fast[0].end
    assert plan_two_windows(200, 0, 0.01) is None  # off


def test_pace_is_what_was_measured_and_then_stays() -> None:
    pace = VocoderPace(0.01)
    pace.observe(100, 5.0)  # not measuring: ignored
    assert pace.seconds_per_frame == pytest.approx(0.01)
    pace.start()
    pace.observe(100, 2.0)
    pace.observe(100, 1.0)
    pace.observe(0, 1.0)  # nothing vocoded: ignored
    pace.stop()
    assert pace.seconds_per_frame == pytest.approx(0.015)
    pace.observe(100, 9.0)
    assert pace.seconds_per_frame == pytest.approx(0.015)
