"""Bind MLX's Linux CPU build to a system OpenBLAS before ``mlx.core`` is first imported.

Why: the ``mlx-cpu`` wheel links netlib's reference BLAS. Loading a system OpenBLAS
(``libopenblas0-pthread`` on Debian) with global symbols first makes the dynamic linker resolve
MLX's ``cblas_sgemm`` to it: a 1500x512x2048 matmul (Whisper-base's encoder) ran 16x faster and
Kokoro's 15600x1408x128 vocoder convolutions ~23x faster here. Loading it after ``mlx.core`` was
imported does not help (measured: the reference BLAS stays bound), so every MLX loader calls this
before its first ``import mlx``. A no-op on macOS (MLX uses Accelerate) or without OpenBLAS (MLX
then works, slowly). Shared by the MLX speech engines (ASR and TTS), hence this low layer.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)

_CANDIDATES = ("libopenblas.so.0", "libopenblas.so", "libopenblasp-r0.so")
_bound: list[str] = []  # the library loaded by an earlier call in this process (a process-wide fact)


def preload_openblas(threads: int) -> str | None:
    """Load OpenBLAS with global symbols (Linux, before mlx is imported): its name, or None."""
    if not sys.platform.startswith("linux"):
        return None
    if _bound:
        return _bound[0]
    if "mlx.core" in sys.modules:
        log.warning("mlx was imported before OpenBLAS could be preloaded: matrix products use the reference "
                    "BLAS (16-23x slower on Linux)")
        return None
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(max(1, threads)))  # idle OpenBLAS threads spin
    for name in _CANDIDATES:
        try:
            ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
        except OSError:
            continue
        _bound.append(name)
        return name
    return None
