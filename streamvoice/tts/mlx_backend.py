"""Kokoro-82M on MLX: the same voices, G2P, token ids and word times as the ONNX Runtime backend.

Why another engine: MLX is Apple Silicon's (and, with ``mlx[cuda]``, NVIDIA's) native array
library. The weights are the installed int8 graph's, dequantized and stored once in ``<model>/mlx/``
(:mod:`streamvoice.tts.mlx_kokoro_convert`); the network is :mod:`streamvoice.tts.mlx_kokoro_model`.

A synthesis runs in three stages (prosody, decoder body, vocoder) and can be abandoned between
any two. MLX streams belong to a thread, so each worker thread gets its own CPU stream; the model's
weights are evaluated at load so no lazy work crosses threads. On Linux a system OpenBLAS is bound
before MLX is imported (:mod:`streamvoice.models.mlx_blas`).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from streamvoice.models.errors import ModelError
from streamvoice.models.mlx_blas import preload_openblas
from streamvoice.models.mlx_threads import ThreadStreams
from streamvoice.tts.backend import G2P, SynthesisAborted
from streamvoice.tts.kokoro_inputs import (
    SAMPLE_RATE,
    WARM_UP,
    check_speed,
    kokoro_capabilities,
    load_vocab,
    model_inputs,
    warm_up_voice,
    word_timings,
)
from streamvoice.tts.types import PhonemizedChunk, SynthesisResult
from streamvoice.tts.voices import VoiceBank


class MlxAbortHandle:
    """Checked between stages: an abandoned synthesis stops at the next stage boundary."""

    def __init__(self) -> None:
        self.aborted = False

    def abort(self) -> None:
        self.aborted = True


def _check(abort: MlxAbortHandle | None) -> None:
    if abort is not None and abort.aborted:
        raise SynthesisAborted("synthesis abandoned")


class KokoroMlx:
    """A loaded Kokoro on MLX (a :class:`~streamvoice.tts.backend.TtsBackend`)."""

    name = "mlx"
    sample_rate = SAMPLE_RATE

    def __init__(self, model: Any, vocab: dict[str, int], voices: VoiceBank) -> None:
        self._model = model
        self._vocab = vocab
        self.voices = voices
        self._lock = threading.Lock()
        self._streams = ThreadStreams()
        self.capabilities = kokoro_capabilities(voices, word_timings=True)

    def release_thread(self) -> None:
        """The calling thread is done with this backend: free its MLX streams (see ``mlx_threads``)."""
        self._streams.release()

    def abort_handle(self) -> MlxAbortHandle:
        return MlxAbortHandle()

    def validate_voice(self, voice: str) -> None:
        self.voices.validate(voice)

    def g2p(self) -> G2P:
        from streamvoice.tts.g2p import VoiceG2P

        return VoiceG2P()

    def synthesize(
        self, chunk: PhonemizedChunk, voice_spec: str, speed: float = 1.0, abort: Any = None
    ) -> SynthesisResult:
        """Audio for one phonemized chunk, with word timings relative to the chunk's start."""
        if chunk.resume is not None:
            raise ValueError("the MLX backend never answers with a first window; this rest chunk is not its own")
        check_speed(speed)
        feeds, positions = model_inputs(self._vocab, self.voices, chunk, voice_spec, speed)
        import mlx.core as mx

        started = time.perf_counter()
        with self._lock, mx.stream(self._streams.current()):
            _check(abort)
            ids = mx.array(feeds["tokens"].astype(np.int32))
            prosody = self._model.prosody(ids, mx.array(feeds["style"]), float(speed))
            _check(abort)
            features = self._model.features(prosody)
            mx.eval(features)
            _check(abort)
            audio = self._model.vocode(prosody, features)
            mx.eval(audio)
            _check(abort)
            samples = np.array(audio, dtype=np.float32).reshape(-1)
            durations = np.array(prosody.durations)
        words = word_timings(chunk, positions, durations, samples.size)
        return SynthesisResult(samples, SAMPLE_RATE, words, time.perf_counter() - started)

    def durations(self, chunk: PhonemizedChunk, voice_spec: str, speed: float = 1.0) -> np.ndarray:
        """Frames per token (pads included) from the first stage alone: cheap, for checks and tests."""
        feeds, _ = model_inputs(self._vocab, self.voices, chunk, voice_spec, speed)
        import mlx.core as mx

        with self._lock, mx.stream(self._streams.current()):
            prosody = self._model.prosody(mx.array(feeds["tokens"].astype(np.int32)), mx.array(feeds["style"]),
                                          float(speed))
            return np.array(prosody.durations)


def _import_mlx(threads: int) -> Any:
    """``mlx.core``, with OpenBLAS bound first on Linux; ModelError saying how to install it."""
    preload_openblas(threads)  # (warns when mlx.core came first)
    try:
        import mlx.core as mx
    except ImportError as exc:
        raise ModelError(
            f"tts.backend 'mlx' needs MLX ({exc}); install it with `pip install 'streamvoice[mlx]'` "
            "(Linux: mlx[cpu], macOS arm64: mlx), or use --tts-backend onnxruntime"
        ) from None
    return mx


def load_kokoro_mlx(model_dir: Path, tts_config: Any, warm_up: bool = True) -> KokoroMlx:
    """Load (converting on first use) Kokoro's MLX weights, vocabulary and voices."""
    threads = int(getattr(tts_config, "threads", 0) or 0) or (os.cpu_count() or 1)
    mx = _import_mlx(threads)
    from streamvoice.tts.mlx_kokoro_convert import convert_kokoro_to_mlx
    from streamvoice.tts.mlx_kokoro_model import Kokoro

    model_dir = Path(model_dir)
    weights = convert_kokoro_to_mlx(model_dir)
    model = Kokoro()
    model.load_weights(str(weights), strict=True)
    mx.eval(model.parameters())  # nothing lazy may cross into the worker thread's stream
    kokoro = KokoroMlx(model, load_vocab(model_dir), VoiceBank(model_dir / "voices"))
    if warm_up:
        kokoro.synthesize(WARM_UP, warm_up_voice(kokoro.voices, getattr(tts_config, "voice", "af_heart")))
    return kokoro


def load_backend(config: Any) -> KokoroMlx:
    """The ``tts.backend = mlx`` entry of :mod:`streamvoice.tts.loader`."""
    from streamvoice.models import require

    return load_kokoro_mlx(require(config.models.dir, config.tts.model), config.tts)
