"""Real Kokoro: the first chunk's two windows against the whole chunk (length, words, join, cancel)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from streamvoice.tts.backend import SynthesisAborted
from streamvoice.tts.first_window import MOST_OF_CHUNK
from streamvoice.tts.g2p import Phonemizer
from streamvoice.tts.kokoro_onnx import AbortHandle, KokoroOnnx, load_kokoro
from streamvoice.tts.lead_silence import leading_silence
from streamvoice.tts.vocoder_windows import FRAME_SAMPLES

pytestmark = pytest.mark.models

TEXT = "Sure, I can help you with that right away."


@pytest.fixture(scope="module")
def kokoros(models_dir: Path) -> tuple[KokoroOnnx, KokoroOnnx]:
    """(split graph with a 400 ms first window, the whole graph)."""
    split = load_kokoro(models_dir / "kokoro-82m", SimpleNamespace(threads=2, voice="af_heart",
                                                                    first_audio_window_ms=400), warm_up=False)
    whole = load_kokoro(models_dir / "kokoro-82m", SimpleNamespace(threads=2, voice="af_heart"), warm_up=False)
    assert split.split is not None and whole.split is None
    split.split.pace.seconds_per_frame = 0.0125  # the head's length no longer depends on this machine's load
    return split, whole


def test_first_chunk_in_two_windows_is_the_whole_chunk_in_length_words_and_join(
        kokoros: tuple[KokoroOnnx, KokoroOnnx]) -> None:
    split, whole_graph = kokoros
    (chunk,) = Phonemizer("en-us").phonemize(TEXT)
    whole = whole_graph.synthesize(chunk, "af_heart")
    same = split.synthesize(chunk, "af_heart")  # not marked early: both parts back to back, the same samples
    np.testing.assert_array_equal(same.audio, whole.audio)
    assert same.rest is None and same.words == whole.words
    head = split.synthesize(replace(chunk, early_audio=True), "af_heart")
    assert head.rest is not None and head.words == whole.words  # every word's time, before the rest is made
    rest = split.synthesize(head.rest, "af_heart")
    assert rest.rest is None and rest.words == ()
    out = np.concatenate([head.audio, rest.audio])
    assert out.size == whole.audio.size  # the crossfade's bookkeeping loses and adds nothing
    # the head holds 16 frames of sound after the leading silence framing drops, and is not the whole chunk
    lead = leading_silence(head.audio, 24_000, head.words[0].start_s)
    assert head.audio.size - lead >= 16 * FRAME_SAMPLES - 480 and head.audio.size < MOST_OF_CHUNK * out.size
    join = head.audio.size + 480  # the window join; the crossfade spans 480 samples either side
    typical = float(np.percentile(np.abs(np.diff(whole.audio)), 99.9))
    assert float(np.abs(np.diff(out[join - 600 : join + 600])).max()) <= typical  # no click
    assert np.corrcoef(out, whole.audio)[0, 1] > 0.5  # the same speech, a slightly different rendering

    def level(a: np.ndarray, lo: int, hi: int) -> float:
        return 10 * np.log10(float(np.mean(a[lo:hi] ** 2)) + 1e-9)

    for side in ((join - 2400, join), (join, join + 2400)):  # 100 ms either side: no jump in loudness
        assert abs(level(out, *side) - level(whole.audio, *side)) < 3.0


def test_cancel_during_the_second_window_stops_it(kokoros: tuple[KokoroOnnx, KokoroOnnx]) -> None:
    split, _ = kokoros
    (chunk,) = Phonemizer("en-us").phonemize(TEXT + " The report is due on Friday at noon, as we agreed.")
    head = split.synthesize(replace(chunk, early_audio=True), "af_heart")
    assert head.rest is not None
    started = time.perf_counter()
    split.synthesize(head.rest, "af_heart")
    full = time.perf_counter() - started
    handle = AbortHandle()
    threading.Timer(full / 5, handle.abort).start()
    started = time.perf_counter()
    with pytest.raises(SynthesisAborted):
        split.synthesize(head.rest, "af_heart", abort=handle)
    assert time.perf_counter() - started < full * 0.8
    with pytest.raises(SynthesisAborted):  # an aborted handle stops the next window before it runs
        split.synthesize(head.rest, "af_heart", abort=handle)
