"""The engine: loaded models shared by every session, reached only through async methods.

One :class:`Worker` thread per model (ASR, TTS, G2P). Priorities across all sessions: a turn's
first TTS chunk > ASR finals > ASR partials > later TTS chunks; round-robin between sessions
within a class. ASR work queued by several sessions is decoded in one ``decode_batch`` call
(up to ``asr_max_batch`` windows) -- see ``bench/asr_batching.py`` for whether that gains.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from streamvoice.asr.backend import AsrBackend, DecodeRequest, DecodeResult
from streamvoice.engine.workers import Worker
from streamvoice.engine.workqueue import Priority, QueueFull, WorkItem
from streamvoice.tts.kokoro_onnx import SynthesisAborted
from streamvoice.tts.types import PhonemizedChunk, SynthesisResult

log = logging.getLogger(__name__)


class TtsModel(Protocol):
    """What the engine needs of a loaded TTS model (Kokoro ONNX now)."""

    def synthesize(self, chunk: PhonemizedChunk, voice_spec: str, speed: float) -> SynthesisResult: ...


class Phonemize(Protocol):
    def __call__(self, text: str, voice: str) -> list[PhonemizedChunk]: ...


class EngineUnavailable(Exception):
    """The model this request needs is not loaded (message says which and how to fix it)."""


@dataclass(frozen=True, slots=True)
class _Synth:
    chunk: PhonemizedChunk
    voice: str
    speed: float
    abort: Any = None  # the model's abort handle, when it supports abandoning a run


class SpeechEngine(Protocol):
    """The engine interface the runtime codes against (real :class:`Engine` or ``FakeEngine``)."""

    @property
    def asr_ready(self) -> bool: ...
    @property
    def tts_ready(self) -> bool: ...
    @property
    def voices(self) -> frozenset[str] | None: ...
    @property
    def tts_sample_rate(self) -> int: ...
    async def asr(self, request: DecodeRequest) -> DecodeResult: ...
    async def synthesize(
        self, chunk: PhonemizedChunk, voice: str, speed: float, *, first: bool, session: str, turn: int
    ) -> SynthesisResult: ...
    async def phonemize(self, text: str, voice: str, *, session: str, turn: int) -> list[PhonemizedChunk]: ...
    def cancel(self, session: str, turn: int | None = None) -> None: ...
    def queue_depths(self) -> dict[str, int]: ...


def _same_kind(head: WorkItem, item: WorkItem) -> bool:
    return bool(head.priority in (Priority.ASR_FINAL, Priority.ASR_PARTIAL))


class Engine:
    """Owns the models and their worker threads. Call :meth:`start` on the serving loop."""

    def __init__(
        self,
        asr_backend: AsrBackend | None,
        tts_model: TtsModel | None = None,
        phonemize: Phonemize | None = None,
        *,
        voices: Sequence[str] | None = None,
        tts_sample_rate: int = 24000,
        asr_max_batch: int = 4,
        max_queue: int = 1024,
        warm_voices: Sequence[str] = (),
    ) -> None:
        self._asr_backend = asr_backend
        self.warm_voices = tuple(warm_voices)  # one warm-up synthesis per language among these voices
        self._tts_model = tts_model
        self._phonemize_fn = phonemize
        self._voices = frozenset(voices) if voices is not None else None
        self._sample_rate = tts_sample_rate
        self.asr_max_batch = asr_max_batch
        self._asr_worker = Worker("asr", self._run_asr, max_batch=asr_max_batch, max_queue=max_queue,
                                  batchable=_same_kind)
        self._tts_worker = Worker("tts", self._run_tts, max_queue=max_queue,
                                  expected_errors=(SynthesisAborted,))
        self._g2p_worker = Worker("g2p", self._run_g2p, max_queue=max_queue)
        self._started = False
        self.batch_sizes: dict[int, int] = {}
        self._aborts: dict[tuple[str, int], set[Any]] = {}  # in-flight syntheses, by (session, turn)
        self._make_abort = _abort_factory(tts_model)

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
        import time

        import numpy as np

        from streamvoice.audio import resample
        from streamvoice.tts.voices import language_of_spec

        spent: dict[str, float] = {}
        speech: np.ndarray | None = None
        if self._tts_model is not None and self._phonemize_fn is not None:
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
                    speech = resample(result.audio, result.sample_rate, 16_000) if speech is None else speech
                spent[f"tts:{lang}"] = time.perf_counter() - t0
        if self._asr_backend is not None:
            t0 = time.perf_counter()
            audio = speech if speech is not None else np.zeros(16_000, np.float32)
            await self.asr(DecodeRequest(np.asarray(audio, np.float32), 0.0, "", None, "transcribe", True, "final",
                                         stream_id="warm-up"))
            spent["asr"] = time.perf_counter() - t0
        log.info("warm-up: %s", ", ".join(f"{k} {v:.2f} s" for k, v in spent.items()) or "nothing loaded")
        return spent

    def close(self) -> None:
        """Stop the worker threads (queued work is cancelled). Idempotent."""
        for worker in self._workers():
            worker.stop()
        self._started = False

    def _workers(self) -> tuple[Worker, ...]:
        return (self._asr_worker, self._tts_worker, self._g2p_worker)

    # -- facts ---------------------------------------------------------------------------------
    @property
    def asr_ready(self) -> bool:
        return self._started and self._asr_backend is not None

    @property
    def tts_ready(self) -> bool:
        return self._started and self._tts_model is not None and self._phonemize_fn is not None

    @property
    def voices(self) -> frozenset[str] | None:
        return self._voices

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
    async def asr(self, request: DecodeRequest) -> DecodeResult:
        if self._asr_backend is None:
            raise EngineUnavailable("no ASR model is loaded; install one with `streamvoice models install`")
        priority = Priority.ASR_FINAL if request.kind == "final" else Priority.ASR_PARTIAL
        result: DecodeResult = await self._asr_worker.submit(request, priority=priority, session=request.stream_id)
        return result

    async def synthesize(
        self, chunk: PhonemizedChunk, voice: str, speed: float, *, first: bool, session: str, turn: int
    ) -> SynthesisResult:
        if self._tts_model is None:
            raise EngineUnavailable("no TTS model is loaded; install kokoro-82m with `streamvoice models install`")
        priority = Priority.TTS_FIRST if first else Priority.TTS_LATER
        handle = self._make_abort() if self._make_abort is not None else None
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
        if self._phonemize_fn is None:
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
    def _run_asr(self, requests: list[Any]) -> list[Any]:
        backend = self._asr_backend
        assert backend is not None
        self.batch_sizes[len(requests)] = self.batch_sizes.get(len(requests), 0) + 1
        if len(requests) == 1:
            return [backend.decode(requests[0])]
        return list(backend.decode_batch(list(requests)))

    def _run_tts(self, items: list[Any]) -> list[Any]:
        model = self._tts_model
        assert model is not None
        return [
            model.synthesize(i.chunk, i.voice, i.speed, abort=i.abort)  # type: ignore[call-arg]
            if i.abort is not None else model.synthesize(i.chunk, i.voice, i.speed)
            for i in items
        ]

    def _run_g2p(self, items: list[Any]) -> list[Any]:
        fn = self._phonemize_fn
        assert fn is not None
        return [fn(text, voice) for text, voice in items]


# Short, ordinary sentences per language: what the warm-up speaks (and then transcribes).
_WARM_TEXT = {
    "en": "Hello, the server is warming up now.", "es": "Hola, el servidor ya casi está listo.",
    "fr": "Bonjour, le serveur est presque prêt.", "it": "Ciao, il server è quasi pronto.",
    "pt": "Olá, o servidor está quase pronto.", "hi": "नमस्ते, सर्वर लगभग तैयार है।",
    "ja": "こんにちは、準備しています。", "zh": "你好，服务器马上就好。",
}


def _abort_factory(model: Any) -> Any:
    """The ONNX Kokoro adapter can abandon a run in progress (``AbortHandle``); others cannot."""
    if model is None or type(model).__name__ != "KokoroOnnx":
        return None
    from streamvoice.tts.kokoro_onnx import AbortHandle

    return AbortHandle


class _Phonemizers:
    """One phonemizer per voice language, created on first use (in the G2P thread)."""

    def __init__(self) -> None:
        self._by_lang: dict[str, Any] = {}

    def __call__(self, text: str, voice: str) -> list[PhonemizedChunk]:
        from streamvoice.tts.g2p import Phonemizer
        from streamvoice.tts.voices import language_of_spec

        lang = language_of_spec(voice)
        ph = self._by_lang.get(lang)
        if ph is None:
            ph = self._by_lang[lang] = Phonemizer(lang)
        chunks: list[PhonemizedChunk] = ph.phonemize(text)
        return chunks


def load_engine(config: Any, *, asr: bool = True, tts: bool = True) -> Engine:
    """Load the configured models (blocking; call before serving). Missing TTS pieces are
    logged and leave TTS unavailable; a missing ASR model raises ModelError."""
    from streamvoice.asr.loader import load_asr_backend
    from streamvoice.models import require

    backend = load_asr_backend(config) if asr else None
    tts_model: TtsModel | None = None
    voices: list[str] | None = None
    rate = 24000
    if tts:
        try:
            from streamvoice.tts.kokoro_onnx import load_kokoro

            model_dir = require(config.models.dir, config.tts.model)
            tts_model = load_kokoro(model_dir, config.tts)
            bank = getattr(tts_model, "voices", None)
            names = getattr(bank, "names", None)
            voices = list(names()) if callable(names) else (list(bank) if bank is not None else None)
            rate = int(getattr(tts_model, "sample_rate", 24000))
        except ImportError as exc:
            log.warning("TTS unavailable (%s); text messages will be answered with model_unavailable", exc)
    return Engine(
        backend,
        tts_model,
        _Phonemizers() if tts_model is not None else None,
        voices=voices,
        tts_sample_rate=rate,
        asr_max_batch=getattr(config.server, "asr_max_batch", 4),
        warm_voices=[config.tts.voice],
    )


__all__ = ["Engine", "EngineUnavailable", "QueueFull", "SpeechEngine", "TtsModel", "load_engine"]
