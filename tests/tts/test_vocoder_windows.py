"""Kokoro split at the vocoder: window plans and stitching (no models), then the real graph."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnx
import pytest

from streamvoice.tts.g2p import Phonemizer
from streamvoice.tts.kokoro_onnx import find_model_file, load_kokoro, session_options
from streamvoice.tts.vocoder_windows import (
    FRAME_SAMPLES,
    Window,
    WindowStitcher,
    harmonic_phase_offsets,
    load_windowed_vocoder,
    plan_windows,
)


@pytest.mark.parametrize("frames", [1, 7, 10, 23, 110, 400])
def test_windows_tile_the_chunk_with_context_inside_it(frames: int) -> None:
    windows = plan_windows(frames, first=10, growth=2.0, context=8)
    assert windows[0].start == 0 and windows[-1].end == frames
    for before, after in itertools.pairwise(windows):
        assert before.end == after.start
    for w in windows:
        assert w.start < w.end and w.lo == max(0, w.start - 8) and w.hi == min(frames, w.end + 8)
    sizes = [w.end - w.start for w in windows]
    assert all(b >= a for a, b in itertools.pairwise(sizes[:-1]))  # growing; the last may be a remainder


def test_first_window_is_the_asked_size_and_no_sliver_is_left() -> None:
    windows = plan_windows(110, first=10, growth=2.0, context=8)
    assert (windows[0].start, windows[0].end) == (0, 10)
    assert all(w.end - w.start >= 5 for w in windows)
    assert plan_windows(0) == []


def _stitch(signal: np.ndarray, windows: list[Window], crossfade: int) -> list[np.ndarray]:
    stitcher = WindowStitcher(crossfade)
    return [stitcher.push(w, signal[w.lo * FRAME_SAMPLES : w.hi * FRAME_SAMPLES], last=i == len(windows) - 1)
            for i, w in enumerate(windows)]


def test_stitching_windows_of_one_signal_gives_it_back_exactly() -> None:
    signal = np.random.default_rng(0).normal(size=57 * FRAME_SAMPLES).astype(np.float32)
    windows = plan_windows(57, first=6, growth=1.5, context=2)
    pieces = _stitch(signal, windows, crossfade=240)
    assert len(pieces) == len(windows) > 2
    np.testing.assert_allclose(np.concatenate(pieces), signal, atol=1e-6)
    assert pieces[0].size == windows[0].end * FRAME_SAMPLES - 120  # leaves before the first join's crossfade


def test_crossfade_blends_two_renderings_without_a_step() -> None:
    n = 30 * FRAME_SAMPLES
    windows = plan_windows(30, first=10, growth=10.0, context=2)
    assert len(windows) == 2
    stitcher = WindowStitcher(240)
    first = stitcher.push(windows[0], np.ones(windows[0].hi * FRAME_SAMPLES, np.float32), last=False)
    rest = stitcher.push(windows[1], np.zeros((windows[1].hi - windows[1].lo) * FRAME_SAMPLES, np.float32), last=True)
    out = np.concatenate([first, rest])
    assert out.size == n
    assert float(np.abs(np.diff(out)).max()) < 2.0 / 240 * np.pi  # a raised-cosine ramp, no jump from 1 to 0


def test_phase_offsets_are_the_running_sum_of_each_harmonic() -> None:
    f0 = np.full((1, 6), 200.0, np.float32)
    offsets = harmonic_phase_offsets(f0)
    assert offsets.shape == (7, 9)
    expected = np.mod(np.arange(7)[:, None] * (200.0 * np.arange(1, 10) / 24_000), 1.0)
    np.testing.assert_allclose(offsets, expected, atol=1e-6)


@pytest.mark.models
def test_split_graph_matches_the_whole_graph_and_windows_join_cleanly(models_dir: Path) -> None:
    config = SimpleNamespace(threads=2, voice="af_heart")
    kokoro = load_kokoro(models_dir / "kokoro-82m", config, warm_up=False)
    vocoder = load_windowed_vocoder(onnx.load(str(find_model_file(models_dir / "kokoro-82m"))), session_options(config))
    (chunk,) = Phonemizer("en-us").phonemize("Sure, I can help you with that right away.")
    feeds, _ = kokoro.model_feeds(chunk, "af_heart")
    whole = np.asarray(kokoro._session.run(None, feeds)[0], np.float32).reshape(-1)
    prosody = vocoder.prosody(feeds)
    assert prosody.frames * FRAME_SAMPLES == whole.size == int(prosody.durations.sum()) * FRAME_SAMPLES
    one = vocoder.vocode(prosody, feeds["style"], Window(0, prosody.frames, 0, prosody.frames))
    np.testing.assert_allclose(one, whole, atol=1e-5)  # the cut changes nothing
    windows = plan_windows(prosody.frames, first=10, growth=2.0, context=8)
    stitcher = WindowStitcher(240)
    pieces = [stitcher.push(w, vocoder.vocode(prosody, feeds["style"], w), last=i == len(windows) - 1)
              for i, w in enumerate(windows)]
    out = np.concatenate(pieces)
    assert out.size == whole.size
    typical = float(np.percentile(np.abs(np.diff(whole)), 99.9))
    for w in windows[:-1]:
        join = w.end * FRAME_SAMPLES
        assert float(np.abs(np.diff(out[join - 130 : join + 130])).max()) <= typical
