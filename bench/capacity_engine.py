"""asr_capacity's level run through the server's engine (``streamvoice.engine.engine.Engine``).

The streams live on the event loop, as the server's sessions do; their decodes go through
``Engine.asr`` (its worker thread, priority queue and cross-session batching: ``asr_max_batch`` 1
for ``sequential``, ``--max-batch`` for ``batched``). A decode's lag is taken when its result is
back on the event loop, where a session would see it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np

SAMPLE_RATE = 16_000


class MeteredBackend:
    """Wraps an ASR backend and counts the seconds, calls and windows the model spends."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.name = getattr(backend, "name", "?")
        self.multilingual = getattr(backend, "multilingual", True)
        self.busy_s = 0.0
        self.batches = 0
        self.items = 0
        self._lock = threading.Lock()  # the engine may run parallel decodes (capabilities.parallel)

    @property
    def capabilities(self) -> Any:
        return self._backend.capabilities

    def decode(self, request: Any) -> Any:
        return self._timed([request], single=True)[0]

    def decode_batch(self, requests: list[Any]) -> list[Any]:
        return self._timed(requests, single=False)

    def _timed(self, requests: list[Any], *, single: bool) -> list[Any]:
        started = time.perf_counter()
        try:
            if single:
                return [self._backend.decode(requests[0])]
            return list(self._backend.decode_batch(requests))
        finally:
            with self._lock:
                self.busy_s += time.perf_counter() - started
                self.batches += 1
                self.items += len(requests)


async def run_level_engine(backend: Any, options: Any, clips: list[np.ndarray], *, mode: str, max_batch: int,
                           chunk_ms: int = 20) -> dict[str, Any]:
    """Feed ``len(clips)`` streams at real time through a fresh Engine; returns the level's raw figures."""
    from streamvoice.asr.stream import RecognizerStream
    from streamvoice.engine.engine import Engine

    metered = MeteredBackend(backend)
    engine = Engine(metered, asr_max_batch=1 if mode == "sequential" else max_batch)
    await engine.start()
    streams = [RecognizerStream(options, stream_id=f"s{i}") for i in range(len(clips))]
    step = SAMPLE_RATE * chunk_ms // 1000
    total = min(len(c) for c in clips)
    lags: list[float] = []
    final_lags: list[float] = []
    pending: dict[int, asyncio.Task[tuple[Any, Any, float]]] = {}
    cpu0 = time.process_time()
    t0 = time.monotonic()

    async def decode(request: Any) -> tuple[Any, Any, float]:
        result = await engine.asr(request)
        return request, result, time.monotonic() - t0

    try:
        for fed in range(0, total, step):
            wait = t0 + fed / SAMPLE_RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            for stream, clip in zip(streams, clips, strict=True):
                stream.push_audio(clip[fed : fed + step])
            for i, task in list(pending.items()):
                if task.done():
                    del pending[i]
                    request, result, at_s = task.result()
                    streams[i].apply(request, result)
                    lag = at_s - (request.offset_s + len(request.audio) / SAMPLE_RATE)
                    lags.append(lag)
                    if request.kind == "final":
                        final_lags.append(lag)
            for i, stream in enumerate(streams):
                if i not in pending and (request := stream.next_request()) is not None:
                    pending[i] = asyncio.create_task(decode(request))
    finally:
        for task in pending.values():
            task.cancel()
        await asyncio.gather(*pending.values(), return_exceptions=True)
        await asyncio.to_thread(engine.close)  # joins the worker after the batch in flight
    return {"wall_s": time.monotonic() - t0, "cpu_s": time.process_time() - cpu0, "busy_s": metered.busy_s,
            "decodes": metered.items, "batches": metered.batches, "lags": lags, "final_lags": final_lags,
            "audio_s": len(clips) * total / SAMPLE_RATE}
