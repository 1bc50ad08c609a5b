"""Bind MLX's Linux CPU build to a system OpenBLAS before ``mlx.core`` is first imported.

Why: the ``mlx-cpu`` wheel links netlib's reference BLAS. Loading a system OpenBLAS
(``libopenblas0-pthread`` on Debian) with global symbols first makes the dynamic linker resolve
MLX's ``cblas_sgemm`` to it: Kokoro's 15600x1408x128 vocoder convolutions ran ~23x faster here.
A no-op on macOS (MLX uses Accelerate), once ``mlx.core`` is imported, or without OpenBLAS (MLX
then works, slowly). Shared by the MLX speech engines (ASR and TTS), hence this low layer.
"""

from __future__ import annotations

import ctypes
import os
import sys

_CANDIDATES = ("libopenblas.so.0", "libopenblas.so", "libopenblasp-r0.so")


def preload_openblas(threads: int) -> str | None:
    """Load OpenBLAS with global symbols (Linux, before mlx is imported): its name, or None."""
    if not sys.platform.startswith("linux") or "mlx.core" in sys.modules:
        return None
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(max(1, threads)))  # idle OpenBLAS threads spin
    for name in _CANDIDATES:
        try:
            ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
        except OSError:
            continue
        return name
    return None
