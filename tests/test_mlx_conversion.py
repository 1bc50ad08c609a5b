"""CTranslate2 model files read without ctranslate2, the MLX conversion of a Whisper folder, and `auto`."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from streamvoice.models.choose import auto_backend, is_apple_silicon
from streamvoice.models.ct2_file import read_ct2_model
from streamvoice.models.errors import ModelError
from streamvoice.models.mlx_whisper_convert import convert_whisper, is_converted, load_converted
from streamvoice.models.store import _converted_checks

_DTYPE_IDS = {"float32": 0, "int8": 1, "int16": 2, "float16": 4}


def _string(value: str) -> bytes:
    data = value.encode() + b"\0"
    return struct.pack("<H", len(data)) + data


def _write_ct2(path: Path, spec: str, variables: dict[str, np.ndarray], aliases: dict[str, str]) -> None:
    """A model.bin as ctranslate2's ``_serialize`` writes it (binary version 6)."""
    out = struct.pack("<I", 6) + _string(spec) + struct.pack("<I", 3) + struct.pack("<I", len(variables))
    for name, value in variables.items():
        out += _string(name) + struct.pack("<B", value.ndim) + b"".join(struct.pack("<I", d) for d in value.shape)
        out += struct.pack("<B", _DTYPE_IDS[str(value.dtype)]) + struct.pack("<I", value.nbytes) + value.tobytes()
    out += struct.pack("<I", len(aliases)) + b"".join(_string(a) + _string(t) for a, t in aliases.items())
    path.write_bytes(out)


def _tiny_whisper(folder: Path, state: int = 4, mels: int = 3, vocab: int = 7) -> None:
    f16 = np.float16
    v: dict[str, np.ndarray] = {
        "encoder/num_heads": np.array(2, dtype=np.int16),
        "decoder/num_heads": np.array(2, dtype=np.int16),
        "encoder/conv1/weight": np.arange(state * mels * 3, dtype=f16).reshape(state, mels, 3),
        "encoder/conv1/bias": np.zeros(state, f16),
        "encoder/conv2/weight": np.zeros((state, state, 3), f16),
        "encoder/conv2/bias": np.zeros(state, f16),
        "encoder/position_encodings/encodings": np.zeros((6, state), f16),
        "encoder/layer_norm/gamma": np.ones(state, f16),
        "encoder/layer_norm/beta": np.zeros(state, f16),
        "decoder/embeddings/weight": np.ones((vocab, state), f16),
        "decoder/position_encodings/encodings": np.zeros((5, state), f16),
        "decoder/layer_norm/gamma": np.ones(state, f16),
        "decoder/layer_norm/beta": np.zeros(state, f16),
    }
    for side in ("encoder", "decoder"):
        v[f"{side}/layer_0/self_attention/linear_0/weight"] = np.zeros((3 * state, state), f16)
        v[f"{side}/layer_0/ffn/linear_0/weight"] = np.zeros((4 * state, state), f16)
    v["decoder/layer_0/attention/linear_1/weight"] = np.zeros((2 * state, state), f16)
    _write_ct2(folder / "model.bin", "WhisperSpec", v, {"decoder/projection/weight": "decoder/embeddings/weight"})
    (folder / "config.json").write_text(json.dumps({"alignment_heads": [[0, 1]], "lang_ids": [5, 6]}))


def test_reads_variables_scalars_and_aliases(tmp_path: Path) -> None:
    _tiny_whisper(tmp_path)
    model = read_ct2_model(tmp_path / "model.bin")
    assert model.spec == "WhisperSpec" and model.revision == 3
    assert model.scalar("encoder/num_heads") == 2
    assert model.variables["encoder/conv1/weight"].shape == (4, 3, 3)
    assert model.variables["decoder/projection/weight"] is model.variables["decoder/embeddings/weight"]


def test_truncated_file_is_a_clear_error(tmp_path: Path) -> None:
    _tiny_whisper(tmp_path)
    data = (tmp_path / "model.bin").read_bytes()
    (tmp_path / "model.bin").write_bytes(data[:40])
    with pytest.raises(ModelError, match="truncated"):
        read_ct2_model(tmp_path / "model.bin")


def test_conversion_renames_transposes_and_records_hashes(tmp_path: Path) -> None:
    _tiny_whisper(tmp_path)
    assert not is_converted(tmp_path)
    convert_whisper(tmp_path)
    assert is_converted(tmp_path) and not (tmp_path / "mlx.partial").exists()
    config, weights_path = load_converted(tmp_path)
    assert config["n_audio_layer"] == 1 and config["n_text_head"] == 2 and config["alignment_heads"] == [[0, 1]]
    weights = np.load(weights_path)
    source = np.arange(4 * 3 * 3, dtype=np.float16).reshape(4, 3, 3)
    assert np.array_equal(weights["encoder.conv1.weight"], source.transpose(0, 2, 1))  # MLX: (out, width, in)
    assert "decoder.blocks.0.attn.qkv.weight" in weights and "decoder.blocks.0.cross.kv.weight" in weights
    assert "encoder.ln_post.weight" in weights and not any("/" in name for name in weights)
    assert all(c.ok for c in _converted_checks(tmp_path))
    with (tmp_path / "mlx" / "config.json").open("a") as handle:
        handle.write(" ")
    assert [c.ok for c in _converted_checks(tmp_path)] == [True, False]


def test_not_whisper_is_refused(tmp_path: Path) -> None:
    _write_ct2(tmp_path / "model.bin", "TransformerSpec", {"x/y": np.zeros(1, np.float32)}, {})
    with pytest.raises(ModelError, match="not a CTranslate2 Whisper"):
        convert_whisper(tmp_path)


def test_auto_is_mlx_only_on_apple_silicon() -> None:
    table = {"ctranslate2": "a:b", "mlx": "c:d"}
    assert auto_backend(table, apple_silicon=True) == "mlx"
    assert auto_backend(table, apple_silicon=False) == "ctranslate2"
    assert auto_backend({"onnxruntime": "a:b"}, apple_silicon=True) == "onnxruntime"
    assert is_apple_silicon("darwin", "arm64") and not is_apple_silicon("darwin", "x86_64")
    assert not is_apple_silicon("linux", "arm64")


def test_missing_mlx_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from streamvoice.asr.mlx_backend import load_mlx_backend
    from streamvoice.config import AsrConfig

    monkeypatch.setitem(sys.modules, "mlx", None)  # import mlx.core now raises ImportError
    monkeypatch.setitem(sys.modules, "mlx.core", None)
    with pytest.raises(ModelError, match=r"pip install 'streamvoice\[asr,mlx\]'"):
        load_mlx_backend(tmp_path, AsrConfig())
