"""Choose and load the speech-synthesis backend named by ``tts.backend`` (``auto``: the first).

A new engine is one adapter module with a ``load(config) -> TtsBackend`` function and one line in
:data:`TTS_BACKENDS`. Entries are ``"module:function"`` strings so an engine's libraries are
imported only when it is chosen.
"""

from __future__ import annotations

from typing import Any

from streamvoice.models.blas_threads import limit_numpy_blas
from streamvoice.models.choose import resolve
from streamvoice.tts.backend import TtsBackend

TTS_BACKENDS: dict[str, str] = {
    "onnxruntime": "streamvoice.tts.kokoro_onnx:load_backend",
    "mlx": "streamvoice.tts.mlx_backend:load_backend",
}


def load_tts_backend(config: Any) -> TtsBackend:
    """Load ``config.tts.model`` with the configured backend (blocking; raises ModelError with a fix).

    Keeps numpy's BLAS at one thread first, as the ASR loader does (:mod:`streamvoice.models.blas_threads`)."""
    limit_numpy_blas()
    loader = resolve(TTS_BACKENDS, config.tts.backend, "TTS", "--tts-backend")
    backend: TtsBackend = loader(config)
    return backend
