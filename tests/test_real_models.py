"""The installed weights are real: Whisper hears a clip, Kokoro speaks at 24 kHz.

These talk to the model runtimes directly, so they check the installed files themselves,
independent of the streaming code built on top.
"""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.models


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as handle:
        assert handle.getframerate() == 16000 and handle.getnchannels() == 1
        return np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2").astype(np.float32) / 32768.0


def test_whisper_base_transcribes_a_real_clip(models_dir: Path, data_dir: Path) -> None:
    from faster_whisper import WhisperModel

    model = WhisperModel(str(models_dir / "whisper-base"), device="cpu", compute_type="int8", cpu_threads=2)
    segments, info = model.transcribe(_read_wav(data_dir / "LJ001-0004.wav"), beam_size=1, language=None)
    text = " ".join(s.text for s in segments).lower()
    assert info.language == "en"
    words = set(re.findall(r"[a-z]+", text))
    assert {"produced", "block", "books", "predecessors", "printed", "book"} <= words, text


def test_kokoro_speaks_a_sentence_at_24khz(models_dir: Path) -> None:
    import onnxruntime as ort

    folder = models_dir / "kokoro-82m"
    vocab: dict[str, int] = json.loads((folder / "vocab.json").read_text())["vocab"]
    phonemes = "ðə kwˈɪk bɹˈWn fˈɑks ʤˈʌmps ˌOvəɹ ðə lˈAzi dˈɔɡ."  # misaki's IPA for a pangram
    tokens = [vocab[p] for p in phonemes if p in vocab]
    assert len(tokens) == len(phonemes), "every phoneme of the sentence is in Kokoro's vocabulary"
    voice = np.fromfile(folder / "voices" / "af_heart.bin", dtype=np.float32).reshape(-1, 1, 256)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(folder / "kokoro-v1.0.int8.onnx"), options, providers=["CPUExecutionProvider"])
    (audio,) = session.run(None, {
        "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
        "style": voice[len(tokens)],
        "speed": np.ones(1, dtype=np.float32),
    })
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    seconds = audio.size / 24000
    # Nine words spoken at a natural pace: about 2-4 s, and clearly not silence.
    assert 1.8 < seconds < 4.5, seconds
    assert float(np.sqrt(np.mean(audio**2))) > 0.02
