"""What every Kokoro engine shares: the model folder, phonemes -> token ids, voice styles, word times.

Why a module of its own: the ONNX Runtime and MLX backends run the same model on the same inputs;
they must pick the same tokens, style row and speed limits, and turn durations into word times the
same way, so those rules live here once. Pure: numpy and the voice bank only.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from streamvoice.capabilities import Capabilities
from streamvoice.tts.types import PhonemizedChunk, WordTiming
from streamvoice.tts.voices import LANGUAGES, MAX_PHONEMES, VoiceBank

SAMPLE_RATE = 24_000
FRAME_SAMPLES = 600  # one duration unit of Kokoro's predictor
MODEL_FILES = ("kokoro-v1.0.int8.onnx", "kokoro-v1.0.onnx", "model.onnx")
# A chunk long enough to touch every kernel once at load (the first run allocates; users should not pay it).
WARM_UP = PhonemizedChunk("warm up", "wˈɔɹm ˈʌp, " * 8, (), "en-us")


def find_model_file(model_dir: Path) -> Path:
    """The Kokoro ONNX graph of an installed model folder."""
    for name in MODEL_FILES:
        if (model_dir / name).is_file():
            return model_dir / name
    found = sorted(model_dir.glob("*.onnx"))
    if not found:
        raise FileNotFoundError(f"no Kokoro .onnx model in {model_dir}; run `streamvoice models install kokoro-82m`")
    return found[0]


def load_vocab(model_dir: Path) -> dict[str, int]:
    """Phoneme -> token id from the folder's ``vocab.json`` (a bare map or ``{"vocab": ...}``)."""
    with (Path(model_dir) / "vocab.json").open(encoding="utf-8") as handle:
        raw = json.load(handle)
    return {str(k): int(v) for k, v in (raw.get("vocab", raw)).items()}


def check_speed(speed: float) -> None:
    if not 0.5 <= float(speed) <= 2.0:
        raise ValueError(f"speed must be between 0.5 and 2.0, got {speed}")


def token_ids(vocab: dict[str, int], phonemes: str) -> tuple[list[int], list[int]]:
    """Token ids, and for each phoneme index its token index (-1 when not in the vocabulary)."""
    ids: list[int] = []
    positions: list[int] = []
    for ch in phonemes:
        token = vocab.get(ch)
        if token is None:
            positions.append(-1)
        else:
            positions.append(len(ids))
            ids.append(token)
    return ids, positions


def model_inputs(
    vocab: dict[str, int], voices: VoiceBank, chunk: PhonemizedChunk, voice_spec: str, speed: float = 1.0
) -> tuple[dict[str, np.ndarray], list[int]]:
    """Kokoro's inputs (``tokens`` with the pads, ``style`` for that length, ``speed``) and each
    phoneme's token index; ``ValueError`` for an empty or over-long chunk."""
    ids, positions = token_ids(vocab, chunk.phonemes)
    if not ids:
        raise ValueError(f"chunk {chunk.text!r} is empty: none of its phonemes are in Kokoro's vocabulary")
    if len(ids) > MAX_PHONEMES:
        raise ValueError(f"chunk has {len(ids)} phonemes; Kokoro takes at most {MAX_PHONEMES} (split it first)")
    feeds = {
        "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
        "style": voices.style(voice_spec, len(ids)),
        "speed": np.array([speed], dtype=np.float32),
    }
    return feeds, positions


def word_timings(
    chunk: PhonemizedChunk, positions: list[int], durations: np.ndarray, n_samples: int
) -> tuple[WordTiming, ...]:
    """Word start/end seconds from per-token durations (index 0 and the last are the pads)."""
    edges = np.concatenate([[0.0], np.cumsum(durations.astype(np.float64))]) * FRAME_SAMPLES / SAMPLE_RATE
    limit = n_samples / SAMPLE_RATE
    out: list[WordTiming] = []
    for word, first, end in chunk.word_spans:
        kept = [positions[i] for i in range(first, min(end, len(positions))) if positions[i] >= 0]
        if not kept:
            continue
        start_s = float(min(edges[1 + kept[0]], limit))  # +1: the leading pad token
        end_s = float(min(edges[2 + kept[-1]], limit))
        out.append(WordTiming(word, round(start_s, 4), round(max(end_s, start_s), 4)))
    return tuple(out)


def kokoro_capabilities(voices: VoiceBank, word_timings: bool) -> Capabilities:
    """What a Kokoro engine declares: its rate, voices and languages; abortable either way."""
    return Capabilities(
        sample_rate=SAMPLE_RATE, abortable=True, voices=tuple(voices.names()),
        languages=tuple(sorted({lang.split("-")[0] for lang in LANGUAGES.values()})), word_timings=word_timings,
    )


def warm_up_voice(voices: VoiceBank, wanted: str) -> str:
    """The configured voice if installed, else the first one (warm-up must not fail on a typo)."""
    return wanted if wanted in voices.names() else voices.names()[0]
