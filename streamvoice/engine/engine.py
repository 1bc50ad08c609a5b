"""The engine: loaded models shared by every session, reached only through async methods.

One :class:`Worker` per model kind (ASR, TTS, G2P); the ASR worker has as many threads as the ASR
backends run decodes at once (``Capabilities.parallel``: on CPU, one decode per core, each on one
thread). Priorities across all sessions: a turn's first TTS chunk > ASR finals > ASR partials >
later TTS chunks; round-robin between sessions within a class. With ``asr_max_batch`` > 1, ASR work
of one model queued by several sessions is decoded in one ``decode_batch`` call (a GPU gains; on
CPU parallel decodes held more streams: ``bench/asr_capacity.py``).
The engine knows backends only by their protocols and declared
:class:`~streamvoice.capabilities.Capabilities` (abortable, voices, sample rate), never by class.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from streamvoice.asr.backend import ASR_SAMPLE_RATE, AsrBackend, DecodeRequest, DecodeResult
from streamvoice.capabilities import Capabilities
from streamvoice.engine.workers import Worker
from streamvoice.engine.workqueue import Priority, QueueFull, WorkItem
from streamvoice.tts.backend import G2P, AbortHandle, SynthesisAborted, TtsBackend
from streamvoice.tts.types import PhonemizedChunk, SynthesisResult

log = logging.getLogger(__name__)


class EngineUnavailable(Exception):
    """The model this request needs is not loaded (message says which and how to fix it)."""


@dataclass(frozen=True, slots=True)
class _Synth:
    chunk: PhonemizedChunk
    voice: str
    speed: float
    abort: AbortHandle | None = None  # set when the backend declares it can abandon a run


@dataclass(frozen=True, slots=True)
class _Decode:
    model: str  # key into the engine's ASR backends
    request: DecodeRequest


class SpeechEngine(Protocol):
    """The engine interface the runtime codes against (real :class:`Engine` or ``FakeEngine``)."""

    @property
    def asr_ready(self) -> bool: ...
    @property
    def tts_ready(self) -> bool: ...
    @property
    def voices(self) -> frozenset[str] | None: ...
    @property
    def asr_models(self) -> frozenset[str] | None: ...
    @property
    def tts_sample_rate(self) -> int: ...
    def asr_capabilities(self, model: str | None = None) -> Capabilities | None: ...
    async def asr(self, request: DecodeRequest, *, model: str | None = None) -> DecodeResult: ...
    async def synthesize(
        self, chunk: PhonemizedChunk, voice: str, speed: float, *, first: bool, session: str, turn: int
    ) -> SynthesisResult: ...
    async def phonemize(self, text: str, voice: str, *, session: str, turn: int) -> list[PhonemizedChunk]: ...
    def cancel(self, session: str, turn: int | None = None) -> None: ...
    def queue_depths(self) -> dict[str, int]: ...


def _release(backends: Iterable[object]) -> None:
    """In a worker thread that ends: the per-thread clean-up a backend's runtime needs, if any
    (``release_thread``: MLX frees the streams the thread made, or the process aborts at exit)."""
    for backend in backends:
        release = getattr(backend, "release_thread", None)
        if release is not None:
            release()


def _parallel(backend: object) -> int:
    """How many decodes ``backend`` runs at once (its capabilities' ``parallel``; 1 if it declares none)."""
    caps = getattr(backend, "capabilities", None)
    return max(1, int(getattr(caps, "parallel", 1)))


def _same_kind(head: WorkItem, item: WorkItem) -> bool:
    """ASR windows batch with ASR windows of the same model."""
    return head.priority in (Priority.ASR_FINAL, Priority.ASR_PARTIAL) and head.payload.model == item.payload.model


class Engine:
    """Owns the models and their worker threads. Call :meth:`start` on the serving loop."""

    def __init__(
        self,
        asr: Mapping[str, AsrBackend] | AsrBackend | None,
        tts: TtsBackend | None = None,
        g2p: G2P | None = None,
        *,
        asr_max_batch: int = 1,
        max_queue: int = 1024,
        warm_voices: Sequence[str] = (),
    ) -> None:
        """``asr``: the loaded ASR models by name (a bare backend serves any model name asked for)."""
        if asr is None:
            asr = {}
        self._named_asr = isinstance(asr, Mapping)
        self._asr: dict[str, AsrBackend] = dict(asr) if isinstance(asr, Mapping) else {"": asr}
        self._default_asr = next(iter(self._asr), "")
        self.warm_voices = tuple(warm_voices)  # one warm-up synthesis per language among these voices
        self._tts = tts
        self._g2p = g2p if g2p is not None or tts is None else tts.g2p()
        caps = tts.capabilities if tts is not None else None
        self._voices = frozenset(caps.voices) if caps is not None and caps.voices else None
        self._sample_rate = caps.sample_rate if caps is not None else 24_000
        self._abortable = caps is not None and caps.abortable
        self.asr_max_batch = asr_max_batch
        # as many ASR threads as every loaded model can serve at once (CTranslate2 replicas)
        asr_threads = min((_parallel(b) for b in self._asr.values()), default=1)
        self._asr_worker = Worker("asr", self._run_asr, max_batch=asr_max_batch, max_queue=max_queue,
                                  batchable=_same_kind, on_thread_exit=lambda: _release(self._asr.values()),
                                  threads=asr_threads)
        self._tts_worker = Worker("tts", self._run_tts, max_queue=max_queue,
                                  expected_errors=(SynthesisAborted,), on_thread_exit=lambda: _release([tts]))
        self._g2p_worker = Worker("g2p", self._run_g2p, max_queue=max_queue)
        self._started = False
        self.batch_sizes: dict[int, int] = {}
        self._stats_lock = threading.Lock()
        self._aborts: dict[tuple[str, int], set[AbortHandle]] = {}  # in-flight syntheses, by (session, turn)

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for worker in self._workers():
            worker.start(loop)
        self._started = True

    async def warm_up(self) -> dict[str, float]:
        """Run every loaded model once, through its worker, before the server says it is ready.

        Why: the first G2P call loads spaCy and the lexicons, and the first runs of ONNX Runtime
        and CTranslate2 allocate their arenas; paid on a user's first reply, that is seconds.
        One short synthesis per voice language, then one ASR decode of that speech (with word
        times and language detection, the paths a session uses). Returns seconds per step.
        """

        import numpy as np

        from streamvoice.audio import resample
        from streamvoice.tts.voices import language_of_spec

        spent: dict[str, float] = {}
        speech: np.ndarray | None = None
        if self._tts is not None and self._g2p is not None:
            done: set[str] = set()
            for voice in self.warm_voices:
                lang = language_of_spec(voice)
                if lang in done:
                    continue
                done.add(lang)
                t0 = time.perf_counter()
                chunks = await self.phonemize(_WARM_TEXT.get(lang[:2], _WARM_TEXT["en"]), voice,
                                              session="warm-up", turn=0)
                for chunk in chunks:
                    result = await self.synthesize(chunk, voice, 1.0, first=True, session="warm-up", turn=0)
                    if speech is None:
                        speech = resample(result.audio, result.sample_rate, ASR_SAMPLE_RATE)
                spent[f"tts:{lang}"] = time.perf_counter() - t0
        audio = speech if speech is not None else np.zeros(ASR_SAMPLE_RATE, np.float32)
        for name in self._asr:
            t0 = time.perf_counter()
            await self.asr(DecodeRequest(np.asarray(audio, np.float32), 0.0, "", None, "transcribe", True, "final",
                                         stream_id="warm-up"), model=name or None)
            spent[f"asr:{name}" if name else "asr"] = time.perf_counter() - t0
        log.info("warm-up: %s", ", ".join(f"{k} {v:.2f} s" for k, v in spent.items()) or "nothing loaded")
        return spent

    def close(self, timeout: float = 30.0) -> bool:
        """Stop the worker threads (queued work is cancelled), waiting up to ``timeout`` for the
        model calls in flight. True when every thread ended. Idempotent."""
        workers = self._workers()
        for worker in workers:  # all stop together: the waits overlap
            worker.request_stop()
        deadline = time.monotonic() + timeout
        stopped = [worker.stop(max(0.0, deadline - time.monotonic())) for worker in workers]
        self._started = False
        return all(stopped)

    def _workers(self) -> tuple[Worker, ...]:
        return (self._asr_worker, self._tts_worker, self._g2p_worker)

    # -- facts ---------------------------------------------------------------------------------
    @property
    def asr_ready(self) -> bool:
        return self._started and bool(self._asr)

    @property
    def tts_ready(self) -> bool:
        return self._started and self._tts is not None and self._g2p is not None

    @property
    def voices(self) -> frozenset[str] | None:
        return self._voices

    @property
    def asr_models(self) -> frozenset[str] | None:
        """Names of the loaded ASR models a session may choose; None (any name passes) when one unnamed
        backend serves all or none is loaded (a TTS-only server: audio is answered model_unavailable)."""
        return frozenset(self._asr) if self._named_asr and self._asr else None

    @property
    def tts_backend(self) -> TtsBackend | None:
        """The loaded synthesis backend (for in-process faces that drive it themselves)."""
        return self._tts

    def asr_capabilities(self, model: str | None = None) -> Capabilities | None:
        """What the ASR model ``model`` declares (None when it is not loaded)."""
        backend = self.asr_backend(model)
        return backend.capabilities if backend is not None else None

    def asr_backend(self, model: str | None = None) -> AsrBackend | None:
        """The loaded ASR backend for ``model`` (default: the first loaded)."""
        return self._asr.get(model or self._default_asr) if self._named_asr else self._asr.get("")

    @property
    def tts_sample_rate(self) -> int:
        return self._sample_rate

    def queue_depths(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for worker in self._workers():
            for priority, n in worker.depths().items():
                if n:
                    out[f"{worker.name}:{priority.name.lower()}"] = n
        return out

    # -- work ----------------------------------------------------------------------------------
    async def asr(self, request: DecodeRequest, *, model: str | None = None) -> DecodeResult:
        """Decode on ``model`` (one of :attr:`asr_models`; default: the first loaded)."""
        if not self._asr:
            raise EngineUnavailable("no ASR model is loaded; install one with `streamvoice models install`")
        key = (model or self._default_asr) if self._named_asr else ""
        if key not in self._asr:
            raise EngineUnavailable(f"ASR model {model!r} is not loaded; loaded: {sorted(self._asr)}")
        priority = Priority.ASR_FINAL if request.kind == "final" else Priority.ASR_PARTIAL
        result: DecodeResult = await self._asr_worker.submit(_Decode(key, request), priority=priority,
                                                             session=request.stream_id)
        return result

    async def synthesize(
        self, chunk: PhonemizedChunk, voice: str, speed: float, *, first: bool, session: str, turn: int
    ) -> SynthesisResult:
        if self._tts is None:
            raise EngineUnavailable("no TTS model is loaded; install kokoro-82m with `streamvoice models install`")
        priority = Priority.TTS_FIRST if first else Priority.TTS_LATER
        handle = self._tts.abort_handle() if self._abortable else None
        key = (session, turn)
        if handle is not None:
            self._aborts.setdefault(key, set()).add(handle)
        try:
            result: SynthesisResult = await self._tts_worker.submit(
                _Synth(chunk, voice, speed, handle), priority=priority, session=session, turn=turn
            )
        finally:
            if handle is not None:
                handles = self._aborts.get(key)
                if handles is not None:
                    handles.discard(handle)
                    if not handles:
                        del self._aborts[key]
        return result

    async def phonemize(self, text: str, voice: str, *, session: str, turn: int) -> list[PhonemizedChunk]:
        if self._g2p is None:
            raise EngineUnavailable("no G2P is available for TTS; install streamvoice[tts]")
        result: list[PhonemizedChunk] = await self._g2p_worker.submit(
            (text, voice), priority=Priority.TTS_FIRST, session=session, turn=turn
        )
        return result

    def cancel(self, session: str, turn: int | None = None) -> None:
        """Drop queued TTS/G2P work of a session's turn (or all of the session's work)."""
        self._tts_worker.cancel(session, turn)
        self._g2p_worker.cancel(session, turn)
        for (s, t), handles in list(self._aborts.items()):  # abandon runs already inside the model
            if s == session and (turn is None or t == turn):
                for handle in handles:
                    handle.abort()
        if turn is None:
            self._asr_worker.cancel(session)

    # -- thread side ---------------------------------------------------------------------------
    def _run_asr(self, items: list[_Decode]) -> list[DecodeResult]:
        backend = self._asr[items[0].model]  # a batch holds one model's windows (see _same_kind)
        with self._stats_lock:  # parallel decodes update it from several threads
            self.batch_sizes[len(items)] = self.batch_sizes.get(len(items), 0) + 1
        if len(items) == 1:
            return [backend.decode(items[0].request)]
        return list(backend.decode_batch([i.request for i in items]))

    def _run_tts(self, items: list[_Synth]) -> list[SynthesisResult]:
        model = self._tts
        if model is None:
            raise EngineUnavailable("no TTS model is loaded")
        return [model.synthesize(i.chunk, i.voice, i.speed, i.abort) for i in items]

    def _run_g2p(self, items: list[tuple[str, str]]) -> list[list[PhonemizedChunk]]:
        g2p = self._g2p
        if g2p is None:
            raise EngineUnavailable("no G2P is available for TTS")
        return [g2p.phonemize(text, voice) for text, voice in items]


# Short, ordinary sentences per language: what the warm-up speaks (and then transcribes).
_WARM_TEXT = {
    "en": "Hello, the server is warming up now.", "es": "Hola, el servidor ya casi está listo.",
    "fr": "Bonjour, le serveur est presque prêt.", "it": "Ciao, il server è quasi pronto.",
    "pt": "Olá, o servidor está quase pronto.", "hi": "नमस्ते, सर्वर लगभग तैयार है।",
    "ja": "こんにちは、準備しています。", "zh": "你好，服务器马上就好。",
}


def load_engine(config: Any, *, asr: bool = True, tts: bool = True) -> Engine:
    """Load the configured backends (blocking; call before serving). A TTS backend whose libraries
    are missing is logged and leaves TTS unavailable; a missing ASR model raises ModelError."""
    from streamvoice.asr.loader import load_asr_backends
    from streamvoice.tts.loader import load_tts_backend

    backends = load_asr_backends(config) if asr else {}
    tts_backend: TtsBackend | None = None
    if tts:
        try:
            tts_backend = load_tts_backend(config)
        except ImportError as exc:
            log.warning("TTS unavailable (%s); text messages will be answered with model_unavailable", exc)
    return Engine(
        backends,
        tts_backend,
        asr_max_batch=config.server.asr_max_batch,
        warm_voices=[config.tts.voice],
    )


__all__ = ["Engine", "EngineUnavailable", "QueueFull", "SpeechEngine", "load_engine"]
