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


class Ladders:
    """The server's degradation ladder per stream (``runtime.degrade``, as ``AsrPipeline`` applies
    it): lag = the stream's undecoded speech; each level does what ``asr_pipeline.apply_level``
    does in a session, and level 3 drops the oldest audio. Counts how long each level held."""

    def __init__(self, streams: list[Any], max_lag_ms: int) -> None:
        from streamvoice.runtime.asr_pipeline import apply_level
        from streamvoice.runtime.degrade import DegradeLadder

        self._apply_level = apply_level
        self._streams = streams
        self._ladders = [DegradeLadder(max_lag_ms) for _ in streams]
        self.steps_at_level = [0, 0, 0, 0]  # stream-steps spent at each level
        self.dropped_s = 0.0

    def update(self) -> None:
        for stream, ladder in zip(self._streams, self._ladders, strict=True):
            change = ladder.update(stream.pending_audio_s * 1000.0)
            if ladder.level >= 3:
                self.dropped_s += stream.drop_pending(ladder.max_lag_ms / 2000.0)
                ladder.update(stream.pending_audio_s * 1000.0)
            if change is not None or ladder.level >= 3:
                self._apply_level(stream, ladder.level)
            self.steps_at_level[ladder.level] += 1

    def figures(self) -> dict[str, Any]:
        total = max(1, sum(self.steps_at_level))
        return {"share_at_level": [round(n / total, 3) for n in self.steps_at_level],
                "dropped_s": round(self.dropped_s, 2)}


class WordLatency:
    """Committed-word latency, as a captioning user sees it: when a word is first committed (a
    partial's stable words, or the final) minus when it was said (its end in the audio). A
    saturated worker decodes each stream less often; per-decode lag does not show that, this does."""

    def __init__(self) -> None:
        from streamvoice.asr.events import Final, Partial

        self._final, self._partial = Final, Partial
        self.latencies: list[float] = []
        self._counted: dict[tuple[int, int], int] = {}  # (stream, utterance) -> words already committed

    def observe(self, stream: int, events: list[Any], now_s: float) -> None:
        for e in events:
            if isinstance(e, self._partial):
                words = e.words[: e.stable_count]
            elif isinstance(e, self._final):  # (an EagerFinal is another class: not counted)
                words = e.words
            else:
                continue
            key = (stream, e.utterance)
            done = self._counted.get(key, 0)
            self.latencies.extend(now_s - w.end_s for w in words[done:])
            self._counted[key] = max(done, len(words))


async def run_level_engine(backend: Any, options: Any, clips: list[np.ndarray], *, mode: str, max_batch: int,
                           chunk_ms: int = 20, max_lag_ms: int = 6000) -> dict[str, Any]:
    """Feed ``len(clips)`` streams at real time through a fresh Engine; returns the level's raw figures.
    ``laddered``: one decode at a time, each stream under the server's degradation ladder."""
    from streamvoice.asr.stream import RecognizerStream
    from streamvoice.engine.engine import Engine

    metered = MeteredBackend(backend)
    engine = Engine(metered, asr_max_batch=max_batch if mode == "batched" else 1)
    await engine.start()
    streams = [RecognizerStream(options, stream_id=f"s{i}") for i in range(len(clips))]
    ladders = Ladders(streams, max_lag_ms) if mode == "laddered" else None
    words = WordLatency()
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
            now_s = time.monotonic() - t0  # audio time fed is wall time since t0 (real-time pacing)
            for i, (stream, clip) in enumerate(zip(streams, clips, strict=True)):
                words.observe(i, stream.push_audio(clip[fed : fed + step]), now_s)
            if ladders is not None:
                ladders.update()
            for i, task in list(pending.items()):
                if task.done():
                    del pending[i]
                    request, result, at_s = task.result()
                    words.observe(i, streams[i].apply(request, result), now_s)
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
            "audio_s": len(clips) * total / SAMPLE_RATE, "ladder": ladders.figures() if ladders else None,
            "word_latencies": words.latencies}
