"""MLX Whisper against CTranslate2 on real speech: the same words, language and word times.

Both backends decode the same windows through the shared window decoder, so what differs is the
engine (MLX float32 converted from the installed fp16 weights vs CTranslate2 int8). Each clip must
give the same words (at most one different), the same language when detected, and word times
within 0.1 s of each other (median). The MLX CPU backend is slow on x86 (see README), so the clips
are short and most decodes are told the language (detection needs the full 30 s encoder width).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from streamvoice.asr.backend import AsrBackend, DecodeRequest, DecodeResult
from streamvoice.audio.wavio import read_audio
from streamvoice.config import load_config
from streamvoice.textnorm import edit_distance, normalize, wer

pytestmark = [
    pytest.mark.models,
    pytest.mark.slow,
    # find_spec, not import: the backend preloads OpenBLAS before mlx is first imported
    pytest.mark.skipif(importlib.util.find_spec("mlx") is None, reason="the mlx extra is not installed"),
]

# (model, clip in tests/data, language given to the decode: None = detect)
CLIPS = [
    ("whisper-base", "LJ001-0002.wav", None),
    ("whisper-base", "vctk-p238_165.wav", None),
    ("whisper-base", "fleurs-en-003.wav", "en"),
    ("whisper-base", "LJ001-0004.wav", "en"),
    ("whisper-tiny.en", "LJ001-0008.wav", None),
    ("whisper-tiny.en", "vctk-p376_193.wav", None),
]


def _load(models_dir: Path, model: str, backend: str) -> AsrBackend:
    from streamvoice.asr.loader import load_asr_backend

    if not (models_dir / model / "MANIFEST.json").is_file():
        pytest.skip(f"{model} is not installed; run `streamvoice models install {model}`")
    config = load_config({}, {"models": {"dir": str(models_dir)}, "asr": {"threads": 2, "backend": backend}})
    return load_asr_backend(config, model)


@pytest.fixture(scope="module")
def backends(models_dir: Path) -> dict[tuple[str, str], AsrBackend]:
    return {(model, engine): _load(models_dir, model, engine)
            for model in ("whisper-base", "whisper-tiny.en") for engine in ("ctranslate2", "mlx")}


def _decode(backend: AsrBackend, audio: np.ndarray, language: str | None) -> DecodeResult:
    return backend.decode(DecodeRequest(audio, 0.0, "", language, "transcribe", True, "final"))


@pytest.mark.parametrize(("model", "name", "language"), CLIPS, ids=[f"{m}-{n}" for m, n, _ in CLIPS])
def test_mlx_matches_ctranslate2(backends: dict[tuple[str, str], AsrBackend], data_dir: Path,
                                 model: str, name: str, language: str | None) -> None:
    audio, rate = read_audio(data_dir / name)
    assert rate == 16000
    ct2 = _decode(backends[(model, "ctranslate2")], audio, language)
    mlx = _decode(backends[(model, "mlx")], audio, language)
    assert ct2.segments and mlx.segments
    ct2_words = [w for s in ct2.segments for w in s.words]
    mlx_words = [w for s in mlx.segments for w in s.words]
    ct2_text = normalize(" ".join(w.word for w in ct2_words)).split()
    mlx_text = normalize(" ".join(w.word for w in mlx_words)).split()
    assert len(ct2_text) >= 3
    assert edit_distance(ct2_text, mlx_text) <= 1, (ct2_text, mlx_text)
    assert mlx.language == ct2.language
    if language is None and backends[(model, "mlx")].multilingual:
        assert abs(mlx.language_probability - ct2.language_probability) < 0.1
    pairs = [(a, b) for a, b in zip(ct2_words, mlx_words, strict=False) if normalize(a.word) == normalize(b.word)]
    deltas = [abs(a.start_s - b.start_s) for a, b in pairs] + [abs(a.end_s - b.end_s) for a, b in pairs]
    assert len(pairs) >= len(ct2_words) - 1
    assert float(np.median(deltas)) <= 0.1, deltas


def test_prompt_and_prefix_continue_alike(backends: dict[tuple[str, str], AsrBackend], data_dir: Path) -> None:
    """A streaming decode: previous text as prompt and the window's committed words forced first;
    both engines continue after the prefix with the same words."""
    audio, _ = read_audio(data_dir / "LJ001-0004.wav")
    request = DecodeRequest(audio, 2.0, "The earliest printers in Europe", "en", "transcribe", True, "partial",
                            prefix="produced the block books,")
    texts = []
    for engine in ("ctranslate2", "mlx"):
        result = backends[("whisper-base", engine)].decode(request)
        words = [w for s in result.segments for w in s.words]
        assert words and all(w.start_s >= 2.0 for w in words)
        texts.append(normalize(" ".join(w.word for w in words)).split())
    assert texts[0][:2] != ["produced", "the"]  # the prefix is not said again
    assert len(texts[0]) >= 4 and edit_distance(texts[0], texts[1]) <= 1, texts


def test_transcribe_cli_streams_on_mlx(models_dir: Path, data_dir: Path, references: dict[str, str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """`streamvoice transcribe CLIP --asr-backend mlx --json`: the real streaming path (VAD,
    stream, finals) on MLX gives the clip's words."""
    from streamvoice.cli.main import main

    if not (models_dir / "whisper-tiny.en" / "MANIFEST.json").is_file():
        pytest.skip("whisper-tiny.en is not installed")
    name = "LJ001-0004.wav"
    code = main(["--models-dir", str(models_dir), "transcribe", str(data_dir / name), "--model", "whisper-tiny.en",
                 "--asr-backend", "mlx", "--speed", "0", "--no-partials", "--json"])
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    finals = [e for e in events if e["type"] == "final"]
    assert finals and all(e["language"] == "en" for e in finals)
    text = " ".join(e["text"] for e in finals)
    assert wer(references[name], text) <= 0.1, text
    words = [w for e in finals for w in e["words"]]
    assert words and all(0.0 <= w["start"] <= w["end"] <= 5.2 for w in words)
