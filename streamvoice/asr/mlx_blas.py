"""Give MLX's Linux CPU build a fast BLAS before it is first imported.

The ``mlx-cpu`` wheel links the netlib reference BLAS: a Whisper-base encoder pass took ~31 s per
30 s window here, and a 1500x512x2048 matmul ran 16x faster once a system OpenBLAS
(``libopenblas0-pthread`` on Debian) was loaded with global symbols before ``mlx.core``: the
dynamic linker then binds MLX's ``cblas_sgemm`` to OpenBLAS. Nothing happens on macOS (MLX uses
Accelerate) or when no OpenBLAS is installed (MLX still works, slowly). Loading it after
``mlx.core`` was imported does not help (measured: the reference BLAS stays bound), so every MLX
loader calls this before its first ``import mlx``.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)

_CANDIDATES = ("libopenblas.so.0", "libopenblas.so", "libopenblasp-r0.so")


def preload_openblas(threads: int) -> str | None:
    """Load a system OpenBLAS globally (first call, Linux, before mlx is imported); its name or None."""
    if not sys.platform.startswith("linux"):
        return None
    if "mlx.core" in sys.modules:
        log.warning("mlx was imported before OpenBLAS could be preloaded: matmuls use the reference BLAS "
                    "(about 16x slower on Linux)")
        return None
    # idle OpenBLAS threads spin: as many as the engine may use, no more
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(max(1, threads)))
    for name in _CANDIDATES:
        try:
            ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
        except OSError:
            continue
        return name
    return None
