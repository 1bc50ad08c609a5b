"""Choose and load the ASR backend named by ``asr.backend`` (``auto``: see :mod:`streamvoice.models.choose`).

A new engine is one adapter module with a ``load(config, model) -> AsrBackend`` function and one
line in :data:`ASR_BACKENDS`. Entries are ``"module:function"`` strings so an engine's libraries
are imported only when it is chosen.
"""

from __future__ import annotations

from streamvoice.asr.backend import AsrBackend
from streamvoice.asr.two_model import TwoModelBackend
from streamvoice.config import Config
from streamvoice.models import require
from streamvoice.models.blas_threads import limit_numpy_blas
from streamvoice.models.choose import resolve

ASR_BACKENDS: dict[str, str] = {
    "ctranslate2": "streamvoice.asr.loader:load_ctranslate2",
    "mlx": "streamvoice.asr.loader:load_mlx",
}


def load_ctranslate2(config: Config, model: str) -> AsrBackend:
    """The ``ctranslate2`` entry: an installed CTranslate2 Whisper folder."""
    from streamvoice.asr.ctranslate2_backend import load_ctranslate2_backend

    return load_ctranslate2_backend(require(config.models.dir, model), config.asr)


def load_mlx(config: Config, model: str) -> AsrBackend:
    """The ``mlx`` entry: the same installed folder, its weights converted for MLX on first load."""
    from streamvoice.asr.mlx_backend import load_mlx_backend

    return load_mlx_backend(require(config.models.dir, model), config.asr)


def load_asr_backend(config: Config, model: str | None = None, partial: AsrBackend | None = None) -> AsrBackend:
    """Load ``model`` (default ``config.asr.model``) with the configured backend; ModelError with a fix.

    With ``asr.partial_model`` set, partial decodes go to that model (``partial`` if already
    loaded): :class:`~streamvoice.asr.two_model.TwoModelBackend`. Keeps numpy's BLAS at one thread
    first (:mod:`streamvoice.models.blas_threads`: its spinning threads took a core from the decodes)."""
    limit_numpy_blas()
    name = model or config.asr.model
    backend = _load_one(config, name)
    small = config.asr.partial_model
    if not small or small == name:
        return backend
    return TwoModelBackend(backend, partial or _load_one(config, small))


def load_asr_backends(config: Config) -> dict[str, AsrBackend]:
    """``asr.model`` and every ``asr.extra_models``, by name: the models sessions may choose from
    (one ``asr.partial_model``, loaded once, serves them all)."""
    names = dict.fromkeys((config.asr.model, *config.asr.extra_models))
    small = config.asr.partial_model
    partial = _load_one(config, small) if small else None
    return {name: load_asr_backend(config, name, partial) for name in names}


def _load_one(config: Config, model: str) -> AsrBackend:
    loader = resolve(ASR_BACKENDS, config.asr.backend, "ASR", "--asr-backend")
    backend: AsrBackend = loader(config, model)
    return backend
