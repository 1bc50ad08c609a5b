"""Synchronous in-process driver: feeds a stream from chunks and runs its decodes on a backend.

Two clocks, two meanings:
- ``realtime=False`` (instant compute): after every chunk, every due decode runs at once, so the
  stream decides exactly as a real-time run on an infinitely fast machine would (accuracy runs).
- ``realtime=True``: a chunk is fed when the wall clock reaches its audio time; a decode runs
  when the model is free and blocks feeding, after which the audio that arrived meanwhile is fed
  at once. Slow decodes thus make the partial cadence adapt to load, and the latency a live user
  would see is what gets measured.
Used by the CLI, tests and benchmarks; the server uses the engine instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from streamvoice.asr.backend import AsrBackend
from streamvoice.asr.buffer import SAMPLE_RATE
from streamvoice.asr.events import AsrEvent
from streamvoice.asr.stream import RecognizerStream

Timed = tuple[AsrEvent, float, float]  # event, audio seconds fed when emitted, wall seconds


def run_stream(
    stream: RecognizerStream,
    backend: AsrBackend,
    chunks: Iterable[np.ndarray],
    *,
    realtime: bool,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Timed]:
    """Yield ``(event, audio_s, wall_s)`` for every event until the stream is finished."""
    t0 = clock()

    def stamp(events: list[AsrEvent]) -> Iterator[Timed]:
        now = clock() - t0
        for ev in events:
            yield ev, stream.audio_time_s, now

    def drain() -> Iterator[Timed]:
        while (request := stream.next_request()) is not None:
            result = backend.decode(request)
            yield from stamp(stream.apply(request, result))
            if realtime:
                return  # one decode, then go back to feeding the audio that arrived meanwhile

    fed = 0
    for chunk in chunks:
        if realtime:
            due = t0 + fed / SAMPLE_RATE
            wait = due - clock()
            if wait > 0:
                # the model is idle while we wait: let it decode what is due first
                yield from drain()
                wait = due - clock()
                if wait > 0:
                    sleep(wait)
        yield from stamp(stream.push_audio(chunk))
        fed += len(chunk)
        if not realtime or clock() < t0 + fed / SAMPLE_RATE:
            yield from drain()
    yield from stamp(stream.end_audio())
    yield from stamp(stream.close())
    while not stream.finished:
        request = stream.next_request()
        if request is None:
            break
        yield from stamp(stream.apply(request, backend.decode(request)))


def chunked(samples: np.ndarray, chunk_ms: int = 20) -> Iterator[np.ndarray]:
    """Split 16 kHz audio into live-sized chunks."""
    step = SAMPLE_RATE * chunk_ms // 1000
    for i in range(0, len(samples), step):
        yield samples[i : i + step]
