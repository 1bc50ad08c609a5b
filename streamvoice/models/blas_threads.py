"""Keep numpy's own BLAS to one thread in a process that runs the speech models.

Why: numpy's wheels bundle OpenBLAS with a thread per core, and an idle OpenBLAS thread spins
for a while after each product before it sleeps. Our only products on that BLAS are small
(Whisper's mel filterbank on every decode, 80 x 201 by 201 x frames), yet each woke the pool, and
the spinning thread then held the second core while CTranslate2 encoded on the first: on the
2-core machine one stream cost 0.72 CPU s per audio s with numpy's default and 0.48 with one
thread (``bench.asr_cost``, the encoder 124 -> 67 ms per decode; same decodes, same words).
Parallelism in this server comes from decodes side by side (``asr.parallel_decodes``), never from
threads inside one small product. Only numpy's bundled library is touched: the system OpenBLAS
that the MLX engines bind (:mod:`streamvoice.models.mlx_blas`) keeps its own setting. Shared by
the ASR and TTS loaders, hence this low layer.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

NUMPY_BLAS_PREFIX = "libscipy_openblas"  # the OpenBLAS that numpy >= 2 wheels bundle


def limit_numpy_blas(threads: int = 1) -> list[str]:
    """Set numpy's BLAS to ``threads`` threads (process-wide, idempotent); the libraries changed."""
    import numpy as np
    from threadpoolctl import ThreadpoolController

    numpy_dir = Path(np.__file__).resolve().parent
    changed = []
    for lib in ThreadpoolController().lib_controllers:
        if lib.user_api != "blas" or not _is_numpys(Path(lib.filepath), lib.prefix, numpy_dir):
            continue
        if lib.num_threads != threads:
            lib.set_num_threads(threads)
            changed.append(lib.filepath)
    if changed:
        log.debug("numpy BLAS limited to %d thread(s): %s", threads, ", ".join(changed))
    return changed


def _is_numpys(filepath: Path, prefix: str, numpy_dir: Path) -> bool:
    """Is this BLAS the one numpy's wheel bundles (``numpy.libs/`` beside it, or ``numpy/.dylibs``)?"""
    if prefix == NUMPY_BLAS_PREFIX:
        return True
    folder = filepath.resolve().parent
    return folder == numpy_dir.parent / "numpy.libs" or numpy_dir in folder.parents
