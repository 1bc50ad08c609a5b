"""Language detection and translation with the real multilingual whisper-base (a FLEURS Spanish clip)."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamvoice.asr.backend import AsrBackend
from streamvoice.asr.driver import chunked, run_stream
from streamvoice.asr.events import Final
from streamvoice.asr.options import StreamOptions
from streamvoice.asr.stream import RecognizerStream
from streamvoice.audio.wavio import read_audio
from streamvoice.config import load_config
from streamvoice.textnorm import normalize

pytestmark = pytest.mark.models

CLIP = "fleurs-es-002.wav"  # "fue tanta la cantidad de gente ... al funeral en la plaza de san pedro"


@pytest.fixture(scope="module")
def backend(models_dir: Path) -> AsrBackend:
    from streamvoice.asr.loader import load_asr_backend

    config = load_config({}, {"models": {"dir": str(models_dir)}, "asr": {"threads": 2}})
    return load_asr_backend(config)


def _finals(backend: AsrBackend, data_dir: Path, **options: object) -> list[Final]:
    audio, rate = read_audio(data_dir / CLIP)
    assert rate == 16000
    stream = RecognizerStream(StreamOptions(multilingual=backend.multilingual, **options))  # type: ignore[arg-type]
    return [e for e, _, _ in run_stream(stream, backend, chunked(audio), realtime=False) if isinstance(e, Final)]


def test_spanish_is_detected_and_transcribed(backend: AsrBackend, data_dir: Path) -> None:
    finals = [f for f in _finals(backend, data_dir, language="auto") if f.text]
    assert finals, "no final for a clip of clear speech"
    assert {f.language for f in finals} == {"es"}
    assert min(f.language_probability for f in finals) > 0.8
    words = set(normalize(" ".join(f.text for f in finals)).split())
    assert {"funeral", "plaza", "pedro", "gente"} <= words, words


def test_spanish_is_translated_to_english(backend: AsrBackend, data_dir: Path) -> None:
    finals = [f for f in _finals(backend, data_dir, language="auto", task="translate") if f.text]
    text = normalize(" ".join(f.text for f in finals))
    words = set(text.split())
    assert {"people", "funeral"} <= words, text
    assert "gente" not in words and "cantidad" not in words, text
