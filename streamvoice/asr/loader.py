"""Choose and load the ASR backend named by the config (auto: CTranslate2)."""

from __future__ import annotations

from streamvoice.asr.backend import AsrBackend
from streamvoice.config import Config
from streamvoice.models import ModelError, require


def load_asr_backend(config: Config) -> AsrBackend:
    """Load ``config.asr.model`` with the configured backend; raises ModelError with a fix."""
    backend = config.asr.backend
    if backend == "mlx":
        raise ModelError("the MLX Whisper backend is not available yet; use --asr-backend ctranslate2 (or auto)")
    model_dir = require(config.models.dir, config.asr.model)
    from streamvoice.asr.ctranslate2_backend import load_ctranslate2_backend

    return load_ctranslate2_backend(model_dir, config.asr)
