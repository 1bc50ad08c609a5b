"""The plain alternative for TTS benchmarks: kokoro-onnx 0.6.1 on streamvoice's own model file and voice.

kokoro-onnx is installed with ``pip install --no-deps kokoro-onnx==0.6.1``: its declared
``phonemizer>=3.4.0`` would replace the ``phonemizer-fork`` that misaki uses (same import name),
and the fork already has what kokoro-onnx calls (``EspeakWrapper.set_data_path``). It gets the
same int8 ``.onnx`` file, the same voice table (written to a temporary ``.npz``, the format it
reads) and an ONNX Runtime session with the same thread settings as streamvoice's, so the two
differ only in text handling, chunking and pauses.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

INSTALL = "pip install --no-deps kokoro-onnx==0.6.1"


def load_kokoro_onnx(model_dir: Path, voice: str, threads: int = 0) -> Any:
    """A ``kokoro_onnx.Kokoro`` on the installed int8 model, with ``voice`` available."""
    try:
        import kokoro_onnx
    except ImportError as exc:
        raise SystemExit(f"this benchmark compares with kokoro-onnx; install it with: {INSTALL}") from exc
    import onnxruntime as ort

    from streamvoice.tts.kokoro_onnx import find_model_file

    table = np.fromfile(model_dir / "voices" / f"{voice}.bin", dtype=np.float32).reshape(-1, 1, 256)
    folder = Path(tempfile.mkdtemp(prefix="kokoro-onnx-voices-"))
    voices_path = folder / "voices.npz"
    np.savez(voices_path, **{voice: table})
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or (os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(find_model_file(model_dir)), options, providers=["CPUExecutionProvider"])
    vocab = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))
    return kokoro_onnx.Kokoro.from_session(session, str(voices_path), vocab_config={"vocab": vocab.get("vocab", vocab)})
