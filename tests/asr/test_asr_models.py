"""Streaming recognition with the real whisper-base model on real speech (LJ Speech clips)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from streamvoice.asr.backend import AsrBackend
from streamvoice.asr.driver import chunked, run_stream
from streamvoice.asr.events import AsrEvent, Final, Partial
from streamvoice.asr.options import StreamOptions
from streamvoice.asr.stream import RecognizerStream
from streamvoice.audio.resample import Resampler, resample
from streamvoice.audio.wavio import read_audio
from streamvoice.config import load_config
from streamvoice.textnorm import normalize, wer

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def backend(models_dir: Path) -> AsrBackend:
    from streamvoice.asr.loader import load_asr_backend

    config = load_config({}, {"models": {"dir": str(models_dir)}, "asr": {"threads": 2}})
    return load_asr_backend(config)


def clip(data_dir: Path, name: str) -> np.ndarray:
    x, rate = read_audio(data_dir / name)
    assert rate == 16000
    return x


def transcribe(backend: AsrBackend, audio: np.ndarray, **options: object) -> list[AsrEvent]:
    stream = RecognizerStream(StreamOptions(multilingual=backend.multilingual, **options))  # type: ignore[arg-type]
    return [e for e, _, _ in run_stream(stream, backend, chunked(audio), realtime=False)]


def final_text(events: list[AsrEvent]) -> str:
    return " ".join(e.text for e in events if isinstance(e, Final) and e.text)


def test_clip_words_and_stable_prefix(backend: AsrBackend, data_dir: Path, references: dict[str, str]) -> None:
    events = transcribe(backend, clip(data_dir, "LJ001-0001.wav"), language="en")
    assert wer(references["LJ001-0001.wav"], final_text(events)) < 0.1
    finals = [e for e in events if isinstance(e, Final)]
    assert finals[0].language == "en"
    assert all(0.0 <= w.start_s <= w.end_s <= 10.0 for w in finals[0].words)
    assert "printing" in normalize(finals[0].words[0].word)
    partials = [e for e in events if isinstance(e, Partial)]
    assert len(partials) >= 5
    stable = ""
    for p in partials:  # the committed prefix only ever grows, and is a prefix of the text
        assert p.stable_text.startswith(stable)
        assert p.text.startswith(p.stable_text)
        stable = p.stable_text
    assert len(stable.split()) >= 10
    assert finals[0].text.startswith(stable)


def test_long_utterance_merges_across_window_slides(
    backend: AsrBackend, data_dir: Path, references: dict[str, str]
) -> None:
    names = ["LJ001-0001.wav", "LJ001-0004.wav", "LJ001-0005.wav"]
    audio = np.concatenate([clip(data_dir, n) for n in names])  # ~23 s without pauses
    reference = " ".join(references[n] for n in names)
    events = transcribe(backend, audio, language="en", window_s=8.0, partial_interval_ms=1000,
                        end_of_speech_ms=2000)
    text = final_text(events)
    assert wer(reference, text) < 0.15, text
    hyp = normalize(text).split()
    for phrase in ("arts and crafts", "block books", "movable metal letters"):
        assert normalize(text).count(phrase) == 1, f"{phrase!r} lost or doubled in {text!r}"
    assert len(hyp) <= len(normalize(reference).split()) + 2


def test_silence_and_noise_give_no_text(backend: AsrBackend) -> None:
    rng = np.random.default_rng(7)
    silence = np.zeros(16000 * 4, dtype=np.float32)
    noise = (0.05 * rng.standard_normal(16000 * 6)).astype(np.float32)
    hum = (0.2 * np.sin(2 * np.pi * 50 * np.arange(16000 * 4) / 16000)).astype(np.float32)
    for audio in (silence, noise, hum):
        assert final_text(transcribe(backend, audio)) == ""


@pytest.mark.parametrize("rate", [8000, 44100, 48000])
def test_resampled_input_is_recognised(backend: AsrBackend, data_dir: Path, rate: int) -> None:
    at_rate = resample(clip(data_dir, "LJ001-0002.wav"), 16000, rate)
    resampler = Resampler(rate, 16000)
    step = rate // 50

    def chunks() -> Iterator[np.ndarray]:
        for i in range(0, len(at_rate), step):
            yield resampler.process(at_rate[i : i + step])
        yield resampler.flush()

    stream = RecognizerStream(StreamOptions(language="en", multilingual=backend.multilingual))
    events = [e for e, _, _ in run_stream(stream, backend, chunks(), realtime=False)]
    assert normalize(final_text(events)) == "in being comparatively modern"
