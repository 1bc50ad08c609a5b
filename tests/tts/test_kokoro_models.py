"""Kokoro with the real model: audio length, word timings, round-trip ASR, blends, cancel, errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from streamvoice.audio import resample
from streamvoice.textnorm import normalize
from streamvoice.tts.driver import SpeechDriver
from streamvoice.tts.g2p import Phonemizer
from streamvoice.tts.kokoro_onnx import KokoroOnnx, load_kokoro
from streamvoice.tts.types import PhonemizedChunk
from streamvoice.tts.voices import UnknownVoiceError

pytestmark = pytest.mark.models

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."


@pytest.fixture(scope="module")
def kokoro(models_dir: Path) -> KokoroOnnx:
    return load_kokoro(models_dir / "kokoro-82m", SimpleNamespace(threads=2, voice="af_heart"))


@pytest.fixture(scope="module")
def en() -> Phonemizer:
    return Phonemizer("en-us")


def test_sentence_audio_and_word_timings(kokoro: KokoroOnnx, en: Phonemizer) -> None:
    (chunk,) = en.phonemize(SENTENCE)
    result = kokoro.synthesize(chunk, "af_heart", 1.0)
    seconds = result.audio.size / result.sample_rate
    assert result.sample_rate == 24_000
    assert 2.0 < seconds < 6.0  # 13 words at a normal speaking rate
    assert np.isfinite(result.audio).all() and float(np.sqrt(np.mean(result.audio**2))) > 0.01
    assert [w.word for w in result.words] == [w for w, _, _ in chunk.word_spans]
    starts = [w.start_s for w in result.words]
    assert starts == sorted(starts)
    assert all(0.0 <= w.start_s < w.end_s <= seconds for w in result.words)
    # the audio under a word is louder than the silence before the first one
    first = result.words[0]
    lead = result.audio[: int(first.start_s * 24_000)]
    body = result.audio[int(first.start_s * 24_000) : int(result.words[-1].end_s * 24_000)]
    assert np.abs(body).mean() > 3 * np.abs(lead).mean()
    faster = kokoro.synthesize(chunk, "af_heart", 1.5)
    assert faster.audio.size < 0.8 * result.audio.size


@pytest.fixture(scope="module")
def kokoro_float(models_dir: Path) -> KokoroOnnx:
    return load_kokoro(models_dir / "kokoro-82m", SimpleNamespace(threads=2, voice="af_heart"), graph="float")


@pytest.mark.parametrize("graph", ["kokoro", "kokoro_float"])
def test_round_trip_transcription(graph: str, en: Phonemizer, models_dir: Path, request: pytest.FixtureRequest) -> None:
    from faster_whisper import WhisperModel

    kokoro: KokoroOnnx = request.getfixturevalue(graph)
    (chunk,) = en.phonemize("Doctor Smith paid twenty dollars for the green umbrella.")
    audio = kokoro.synthesize(chunk, "af_heart:0.7,am_adam:0.3", 1.0).audio
    model = WhisperModel(str(models_dir / "whisper-base"), device="cpu", compute_type="int8", cpu_threads=2)
    segments, _ = model.transcribe(resample(audio, 24_000, 16_000), language="en", beam_size=1)
    heard = normalize(" ".join(s.text for s in segments)).split()
    for word in ("smith", "paid", "twenty", "green", "umbrella"):  # "dollars" may come back as "$20"
        assert word in heard, heard


def test_blend_differs_from_its_parts(kokoro: KokoroOnnx, en: Phonemizer) -> None:
    (chunk,) = en.phonemize("Hello there.")
    a = kokoro.voices.style("af_heart", 10)
    b = kokoro.voices.style("am_adam", 10)
    mix = kokoro.voices.style("af_heart:0.7,am_adam:0.3", 10)
    assert np.allclose(mix, 0.7 * a + 0.3 * b, atol=1e-6)
    assert kokoro.synthesize(chunk, "af_heart:0.7,am_adam:0.3", 1.0).audio.size > 0


def test_errors_are_clear(kokoro: KokoroOnnx, en: Phonemizer) -> None:
    with pytest.raises(UnknownVoiceError, match="af_heart"):
        SpeechDriver(kokoro, en, "af_hearts")
    with pytest.raises(ValueError, match="empty"):
        kokoro.synthesize(PhonemizedChunk("x", "❓❓", (), "en-us"), "af_heart", 1.0)
    with pytest.raises(ValueError, match="speed"):
        kokoro.synthesize(PhonemizedChunk("hi", "hˈI", (), "en-us"), "af_heart", 5.0)


def _slow_words(text: str, rate: float) -> Iterator[str]:
    for word in text.split(" "):
        time.sleep(1.0 / rate)
        yield word + " "


def test_streamed_turn_then_cancel_mid_turn(kokoro: KokoroOnnx, en: Phonemizer) -> None:
    driver = SpeechDriver(kokoro, en, "af_heart", frame_ms=60)
    text = "Sure, here is the answer you wanted. It has three parts. The first part is short. The rest is long."
    batches = []
    for batch in driver.speak(_slow_words(text, 30)):
        batches.append(batch)
        if len(batches) == 1:
            driver.cancel()  # later chunks are queued or being synthesized right now
    assert len(batches) == 1
    assert driver.stats.cancelled and driver.stats.stop_s is not None
    assert driver.stats.stop_s < 1.0
    assert driver.stats.chunks == 1
    frames = batches[0].frames
    assert frames[0].offset_ms == 0.0 and frames[0].words
    assert all(f.samples <= 1440 for f in frames)


def test_a_turn_starts_sounding_at_once_and_keeps_its_first_word(kokoro: KokoroOnnx, en: Phonemizer,
                                                                  models_dir: Path) -> None:
    """Kokoro's ~0.3 s of leading silence is dropped by the framing, not the first word with it."""
    from faster_whisper import WhisperModel

    text = "Sure, I can help you. The report is due on Friday."
    (raw_chunk, *_) = en.phonemize("Sure, I can help you.")
    raw = kokoro.synthesize(raw_chunk, "af_heart", 1.0).audio
    assert np.flatnonzero(np.abs(raw) > 0.01)[0] / 24_000 > 0.2  # what the model gives

    driver = SpeechDriver(kokoro, en, "af_heart", frame_ms=60)
    frames = [f for batch in driver.speak(iter([text])) for f in batch.frames]
    pcm = np.frombuffer(b"".join(f.pcm for f in frames), dtype="<i2").astype(np.float32) / 32768
    assert np.flatnonzero(np.abs(pcm) > 0.01)[0] / 24_000 < 0.1
    words = [w for f in frames for w in f.words]
    assert [w.word for w in words][:2] == ["Sure", "I"]
    assert 0.0 <= words[0].start_s < 0.25  # word times moved with the audio (0.45 s untrimmed)
    second = next(f for f in frames if f.chunk == 1)
    assert second.words[0].start_s - second.offset_ms / 1000 < 0.25
    model = WhisperModel(str(models_dir / "whisper-base"), device="cpu", compute_type="int8", cpu_threads=2)
    segments, _ = model.transcribe(resample(pcm, 24_000, 16_000), language="en", beam_size=5)
    assert normalize(" ".join(s.text for s in segments)) == normalize(text)
