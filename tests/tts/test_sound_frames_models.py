"""Real Kokoro: vocoding only the frames that can sound keeps the chunk's length, times and words."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from streamvoice.tts.g2p import Phonemizer
from streamvoice.tts.kokoro_onnx import KokoroOnnx, load_kokoro
from streamvoice.tts.sound_frames import sounding_span
from streamvoice.tts.vocoder_windows import FRAME_SAMPLES

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def kokoros(models_dir: Path) -> tuple[KokoroOnnx, KokoroOnnx]:
    """(silent frames skipped, the whole graph)."""
    def load(skip: bool) -> KokoroOnnx:
        return load_kokoro(models_dir / "kokoro-82m", SimpleNamespace(threads=2, voice="af_heart",
                                                                        skip_silent_frames=skip), warm_up=False)
    skipping, whole = load(True), load(False)
    assert skipping.split is not None and skipping.skip_silent and whole.split is None
    return skipping, whole


@pytest.mark.parametrize("text", ["Sure,", "That is a great question", "The report is due on Friday at noon."])
def test_skipping_silent_frames_keeps_length_times_and_sound(kokoros: tuple[KokoroOnnx, KokoroOnnx],
                                                             text: str) -> None:
    skipping, whole_graph = kokoros
    (chunk,) = Phonemizer("en-us").phonemize(text)
    ours, whole = skipping.synthesize(chunk, "af_heart"), whole_graph.synthesize(chunk, "af_heart")
    assert ours.audio.size == whole.audio.size and ours.words == whole.words
    durations = whole_graph.durations(chunk, "af_heart")
    lo, hi = sounding_span(durations, ends_in_pause=text[-1] in ",.")
    assert lo > 0 and hi < durations.sum()  # something was skipped at both ends
    assert not ours.audio[: lo * FRAME_SAMPLES].any() and not ours.audio[hi * FRAME_SAMPLES :].any()
    # what was skipped was (nearly) silent in the whole rendering too
    skipped = np.concatenate([whole.audio[: lo * FRAME_SAMPLES], whole.audio[hi * FRAME_SAMPLES :]])
    assert float(np.sqrt(np.mean(skipped**2))) < 1e-3 * float(np.abs(whole.audio).max())
    # the same speech: envelopes (20 ms RMS) follow each other, the level within 3 dB
    def envelope(a: np.ndarray) -> np.ndarray:
        n = a.size // 480
        return np.sqrt(np.mean(a[: n * 480].reshape(n, 480) ** 2, axis=1))
    assert np.corrcoef(envelope(ours.audio), envelope(whole.audio))[0, 1] > 0.9
    assert abs(10 * np.log10(np.mean(ours.audio**2) / np.mean(whole.audio**2))) < 3.0
