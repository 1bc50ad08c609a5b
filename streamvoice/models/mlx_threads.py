"""One MLX CPU stream per calling thread, for the MLX engines (ASR and TTS).

Why: MLX's default stream belongs to the thread that imported it. Kokoro called from the engine's
worker thread raised "There is no Stream(cpu, 0) in current thread", and Whisper decoded there
but aborted the interpreter at exit ("terminate called without an active exception", exit 134).
A stream made by and used in the calling thread avoids the first. The second is MLX's rule that
``mx.clear_streams()`` runs in every thread that used MLX before it ends, the main thread at exit
included (its own clean-up comes too late, ml-explore/mlx#4327): :meth:`ThreadStreams.release`
is the backends' ``release_thread`` (the engine's workers call it as they end), and the main
thread's is registered at exit here. With both, the same script exited 0.
"""

from __future__ import annotations

import atexit
import threading
from typing import Any


class ThreadStreams:
    """Hands each thread its own MLX CPU stream, made on first use in that thread."""

    def __init__(self) -> None:
        import mlx.core as mx

        self._local = threading.local()
        atexit.register(mx.clear_streams)

    def current(self) -> Any:
        """This thread's stream (``with mx.stream(streams.current()): ...``)."""
        import mlx.core as mx

        stream = getattr(self._local, "stream", None)
        if stream is None:
            stream = self._local.stream = mx.new_stream(mx.cpu)
        return stream

    def release(self) -> None:
        """Free the streams this thread made (call it in the thread, when it is done with MLX)."""
        import mlx.core as mx

        self._local.stream = None
        mx.clear_streams()
