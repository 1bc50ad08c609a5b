"""Convert an installed CTranslate2 Whisper folder into the weights the MLX backend loads.

There is no model hub here, so MLX's Whisper weights are rebuilt from the CTranslate2 files
already installed: same numbers (float16, as installed), renamed to
:mod:`streamvoice.asr.mlx_whisper_model`'s modules, convolution kernels moved to MLX's
(out, width, in) layout. The result lives beside the CTranslate2 files in ``<model>/mlx/``:
``weights.npz``, ``config.json`` (shapes and alignment heads) and ``MANIFEST.json`` (sha256 and
size of each, and of the ``model.bin`` they came from), written last and renamed into place so a
half-written conversion is never taken as good. numpy only: no MLX needed to convert.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from streamvoice.models.ct2_file import read_ct2_model
from streamvoice.models.errors import ModelError
from streamvoice.models.hashing import file_sha256

MLX_FOLDER = "mlx"
MLX_MANIFEST = "MANIFEST.json"
_WEIGHTS = "weights.npz"
_CONFIG = "config.json"

# CTranslate2 Whisper variable -> MLX module path (applied in order; layer numbers carried over)
_RENAMES = (
    (r"^encoder/layer_(\d+)/", r"encoder.blocks.\1."),
    (r"^decoder/layer_(\d+)/", r"decoder.blocks.\1."),
    (r"self_attention/layer_norm/", "attn_ln."),
    (r"self_attention/linear_0/", "attn.qkv."),
    (r"self_attention/linear_1/", "attn.out."),
    (r"attention/layer_norm/", "cross_ln."),
    (r"attention/linear_0/", "cross.query."),
    (r"attention/linear_1/", "cross.kv."),
    (r"attention/linear_2/", "cross.out."),
    (r"ffn/layer_norm/", "mlp_ln."),
    (r"ffn/linear_0/", "mlp1."),
    (r"ffn/linear_1/", "mlp2."),
    (r"^encoder/layer_norm/", "encoder.ln_post."),
    (r"^decoder/layer_norm/", "decoder.ln."),
    (r"^(encoder|decoder)/position_encodings/encodings$", r"\1.positions"),
    (r"^decoder/embeddings/weight$", "decoder.embed.weight"),
    (r"^encoder/conv([12])/", r"encoder.conv\1."),
    (r"gamma$", "weight"),
    (r"beta$", "bias"),
)


def mlx_folder(model_dir: Path) -> Path:
    return model_dir / MLX_FOLDER


def is_converted(model_dir: Path) -> bool:
    """True when a whole conversion is there (its manifest is written last)."""
    return (mlx_folder(model_dir) / MLX_MANIFEST).is_file()


def _mlx_name(ct2_name: str) -> str | None:
    """The MLX parameter for a CTranslate2 variable; None for scalars and the tied projection."""
    if "/" not in ct2_name or ct2_name.startswith("decoder/projection"):
        return None
    name = ct2_name
    for pattern, repl in _RENAMES:
        name = re.sub(pattern, repl, name)
    if "/" in name:
        return None  # a spec scalar (num_heads, activation, ...): read into config.json instead
    return name


def convert_whisper(model_dir: Path) -> Path:
    """Write ``<model_dir>/mlx/`` from ``<model_dir>/model.bin``; returns that folder."""
    source = model_dir / "model.bin"
    if not source.is_file():
        raise ModelError(f"{model_dir} has no model.bin; install it first (`streamvoice models install`)")
    ct2 = read_ct2_model(source)
    if ct2.spec != "WhisperSpec":
        raise ModelError(f"{source} is a {ct2.spec}, not a CTranslate2 Whisper model")
    weights: dict[str, np.ndarray] = {}
    for ct2_name, value in ct2.variables.items():
        name = _mlx_name(ct2_name)
        if name is None:
            continue
        if name.endswith("conv1.weight") or name.endswith("conv2.weight"):
            value = value.transpose(0, 2, 1)  # (out, in, width) -> MLX's (out, width, in)
        weights[name] = np.ascontiguousarray(value)
    ct2_config = json.loads((model_dir / "config.json").read_text())
    embed = weights["decoder.embed.weight"]
    config = {
        "n_mels": int(weights["encoder.conv1.weight"].shape[2]),
        "n_audio_ctx": int(weights["encoder.positions"].shape[0]),
        "n_audio_state": int(weights["encoder.positions"].shape[1]),
        "n_audio_head": ct2.scalar("encoder/num_heads"),
        "n_audio_layer": _count_layers(weights, "encoder"),
        "n_vocab": int(embed.shape[0]),
        "n_text_ctx": int(weights["decoder.positions"].shape[0]),
        "n_text_state": int(embed.shape[1]),
        "n_text_head": ct2.scalar("decoder/num_heads"),
        "n_text_layer": _count_layers(weights, "decoder"),
        "alignment_heads": [list(map(int, pair)) for pair in ct2_config.get("alignment_heads", [])],
        "lang_ids": [int(i) for i in ct2_config.get("lang_ids", [])],
    }
    target = mlx_folder(model_dir)
    staging = model_dir / f"{MLX_FOLDER}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        np.savez(staging / _WEIGHTS, **weights)  # type: ignore[arg-type]  # names are parameter paths
        (staging / _CONFIG).write_text(json.dumps(config, indent=2))
        manifest = {
            "converted_from": {"name": source.name, "sha256": file_sha256(source), "size": source.stat().st_size},
            "files": [
                {"name": f, "sha256": file_sha256(staging / f), "size": (staging / f).stat().st_size}
                for f in (_WEIGHTS, _CONFIG)
            ],
        }
        (staging / MLX_MANIFEST).write_text(json.dumps(manifest, indent=2))
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelError(f"could not write the MLX conversion in {model_dir}: {exc}") from exc
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def _count_layers(weights: dict[str, np.ndarray], side: str) -> int:
    return 1 + max(int(n.split(".")[2]) for n in weights if n.startswith(f"{side}.blocks."))


def load_converted(model_dir: Path) -> tuple[dict[str, Any], Path]:
    """The conversion's config and the path of its weights (checked present, not re-hashed)."""
    folder = mlx_folder(model_dir)
    manifest = json.loads((folder / MLX_MANIFEST).read_text())
    for entry in manifest["files"]:
        path = folder / entry["name"]
        if not path.is_file() or path.stat().st_size != entry["size"]:
            fix = f"streamvoice models convert {model_dir.name} --to mlx"
            raise ModelError(f"{path} is missing or damaged; run `{fix}`")
    config: dict[str, Any] = json.loads((folder / _CONFIG).read_text())
    return config, folder / _WEIGHTS
