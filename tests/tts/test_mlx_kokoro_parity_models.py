"""Kokoro on MLX against Kokoro on ONNX Runtime, both from the installed int8 model.

Durations must agree within one 25 ms frame per token (the MLX weights are the dequantized floats
the int8 graph approximates), and Whisper must hear the MLX audio as well as it hears ONNX's.
Short sentences: MLX's CPU backend on Linux is several times slower than ONNX Runtime.
"""

from __future__ import annotations

import importlib.util
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from streamvoice.audio import resample
from streamvoice.textnorm import normalize
from streamvoice.tts.backend import SynthesisAborted
from streamvoice.tts.g2p import Phonemizer
from streamvoice.tts.kokoro_onnx import KokoroOnnx, load_kokoro
from streamvoice.tts.types import PhonemizedChunk

pytestmark = [
    pytest.mark.models, pytest.mark.slow,
    # not importorskip: importing mlx.core here would come before the backend binds OpenBLAS
    pytest.mark.skipif(importlib.util.find_spec("mlx") is None, reason="mlx is not installed"),
]

SENTENCES = ("The quick brown fox jumps over the lazy dog.", "Please call me back after lunch.",
             "Seven green bottles stood on the wall.")
VOICE = "af_heart"


@pytest.fixture(scope="module")
def onnx_kokoro(models_dir: Path) -> KokoroOnnx:
    return load_kokoro(models_dir / "kokoro-82m", SimpleNamespace(threads=2, voice=VOICE))


@pytest.fixture(scope="module")
def mlx_kokoro(models_dir: Path) -> Any:
    from streamvoice.tts.mlx_backend import load_kokoro_mlx

    return load_kokoro_mlx(models_dir / "kokoro-82m", SimpleNamespace(threads=2, voice=VOICE), warm_up=False)


@pytest.fixture(scope="module")
def chunks() -> list[PhonemizedChunk]:
    en = Phonemizer("en-us")
    return [en.phonemize(text)[0] for text in SENTENCES]


@pytest.fixture(scope="module")
def results(onnx_kokoro: KokoroOnnx, mlx_kokoro: Any, chunks: list[PhonemizedChunk]) -> dict[str, list[Any]]:
    """Each sentence spoken by both engines; MLX from a worker thread, as the engine calls it."""
    with ThreadPoolExecutor(1) as worker:
        mlx = [worker.submit(mlx_kokoro.synthesize, c, VOICE).result() for c in chunks]
    return {"onnx": [onnx_kokoro.synthesize(c, VOICE) for c in chunks], "mlx": mlx}


def test_durations_within_one_frame_per_token(onnx_kokoro: KokoroOnnx, mlx_kokoro: Any,
                                              chunks: list[PhonemizedChunk]) -> None:
    for chunk in chunks:
        reference = np.maximum(onnx_kokoro.durations(chunk, VOICE), 1)  # the graph floors at one frame after
        ours = mlx_kokoro.durations(chunk, VOICE)
        assert ours.shape == reference.shape, chunk.text
        assert int(np.abs(ours - reference).max()) <= 1, (chunk.text, ours.tolist(), reference.tolist())
        assert abs(int(ours.sum()) - int(reference.sum())) <= max(2, len(ours) // 10), chunk.text


def test_audio_length_and_word_times_follow_the_durations(results: dict[str, list[Any]],
                                                          chunks: list[PhonemizedChunk]) -> None:
    for chunk, ours, theirs in zip(chunks, results["mlx"], results["onnx"], strict=True):
        assert ours.sample_rate == 24_000 and ours.audio.dtype == np.float32
        assert ours.audio.size % 600 == 0 and np.isfinite(ours.audio).all()
        assert abs(ours.audio.size - theirs.audio.size) <= 600 * max(2, len(chunk.phonemes) // 10)
        assert 0.3 * _rms(theirs.audio) < _rms(ours.audio) < 3 * _rms(theirs.audio)
        assert [w.word for w in ours.words] == [w.word for w in theirs.words]
        for mine, ref in zip(ours.words, theirs.words, strict=True):
            assert abs(mine.start_s - ref.start_s) <= 0.1 and abs(mine.end_s - ref.end_s) <= 0.1, (mine, ref)


def test_round_trip_transcription_as_good_as_onnx(results: dict[str, list[Any]], models_dir: Path) -> None:
    from faster_whisper import WhisperModel

    asr = WhisperModel(str(models_dir / "whisper-base"), device="cpu", compute_type="int8", cpu_threads=2)

    def errors(audio: np.ndarray, text: str) -> int:
        segments, _ = asr.transcribe(resample(audio, 24_000, 16_000), language="en", beam_size=1)
        heard = normalize(" ".join(s.text for s in segments)).split()
        return _word_errors(normalize(text).split(), heard)

    ours = sum(errors(r.audio, t) for r, t in zip(results["mlx"], SENTENCES, strict=True))
    theirs = sum(errors(r.audio, t) for r, t in zip(results["onnx"], SENTENCES, strict=True))
    words = sum(len(normalize(t).split()) for t in SENTENCES)
    assert ours <= theirs + 1, f"MLX {ours} word errors vs ONNX {theirs} in {words} words"
    assert ours <= words // 10


def test_abandoned_between_stages(mlx_kokoro: Any, chunks: list[PhonemizedChunk]) -> None:
    handle = mlx_kokoro.abort_handle()
    handle.abort()
    with pytest.raises(SynthesisAborted):
        mlx_kokoro.synthesize(chunks[0], VOICE, abort=handle)
    running = mlx_kokoro.abort_handle()
    timer = threading.Timer(0.3, running.abort)  # lands inside a stage; the next boundary stops it
    timer.start()
    try:
        with pytest.raises(SynthesisAborted):
            mlx_kokoro.synthesize(chunks[1], VOICE, abort=running)
    finally:
        timer.cancel()


def test_capabilities_and_errors(mlx_kokoro: Any, onnx_kokoro: KokoroOnnx) -> None:
    assert mlx_kokoro.capabilities == onnx_kokoro.capabilities
    assert mlx_kokoro.name == "mlx"
    with pytest.raises(ValueError, match="speed"):
        mlx_kokoro.synthesize(PhonemizedChunk("hi", "hˈI", (), "en-us"), VOICE, 3.0)
    with pytest.raises(ValueError, match="unknown voice"):
        mlx_kokoro.synthesize(PhonemizedChunk("hi", "hˈI", (), "en-us"), "zz_nobody")


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


def _word_errors(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance over words (substitutions + insertions + deletions)."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def test_say_cli_writes_speech_on_mlx(models_dir: Path, tmp_path: Path) -> None:
    """`streamvoice say TEXT --tts-backend mlx --out F.wav`: a WAV whose speech Whisper hears."""
    from streamvoice.asr.backend import DecodeRequest
    from streamvoice.asr.loader import load_asr_backend
    from streamvoice.audio.wavio import read_audio
    from streamvoice.cli.main import main
    from streamvoice.config import load_config

    out = tmp_path / "mlx.wav"
    text = "The train leaves at noon."
    assert main(["--models-dir", str(models_dir), "say", text, "--tts-backend", "mlx", "--out", str(out)]) == 0
    audio, rate = read_audio(out)
    assert rate == 24_000 and 1.0 < len(audio) / rate < 4.0
    config = load_config(None, {"models": {"dir": str(models_dir)}, "asr": {"backend": "ctranslate2"}})
    asr = load_asr_backend(config, "whisper-base")
    heard = asr.decode(DecodeRequest(resample(audio, rate, 16_000), 0.0, "", "en", "transcribe", False,
                                     "final"))
    assert normalize(" ".join(s.text for s in heard.segments)).split() == normalize(text).split()
