"""Synchronous in-process speech driver for the CLI, tests and benchmarks.

Three roles, each on its own thread so none waits on another: a reader iterates the text deltas
(which may be slow stdin reads), a worker phonemizes and synthesizes chunk jobs, and the caller's
thread releases frames in order. Queues are bounded: the reader blocks when ``max_pending_chunks``
jobs wait (text arrives faster than speech is made: backpressure), the worker blocks when the
caller has not consumed results. ``cancel()`` drops queued jobs, aborts the synthesis in flight
and stops the output; the time it took is kept in ``stats.stop_s``.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from streamvoice.tts.backend import G2P, AbortHandle, SynthesisAborted, TtsBackend
from streamvoice.tts.segmenter import Segmenter
from streamvoice.tts.turn import AudioFrame, ChunkJob, TurnSynthesisPlan, merge_results
from streamvoice.tts.types import PhonemizedChunk, SynthesisResult

_POLL_S = 0.02


@dataclass(frozen=True, slots=True)
class FrameBatch:
    """The frames of one synthesized chunk, released together (with ``release_parts``, one part of
    it: a turn's first chunk may come in two, its first window's audio ahead of the rest)."""

    frames: tuple[AudioFrame, ...]
    text: str
    wall_s: float  # since speak() started
    audio_s: float  # turn audio released so far, including this batch


@dataclass(slots=True)
class SpeakStats:
    ttfa_s: float | None = None  # first frame released, from speak() start
    first_text_s: float | None = None  # first delta read, from speak() start
    audio_s: float = 0.0
    compute_s: float = 0.0  # model time
    wall_s: float = 0.0
    chunks: int = 0
    stop_s: float | None = None  # cancel() -> output stopped and worker idle
    cancelled: bool = False
    chunk_texts: list[str] = field(default_factory=list)

    @property
    def rtf(self) -> float | None:
        """Model seconds per second of audio (below 1 = faster than real time)."""
        return self.compute_s / self.audio_s if self.audio_s > 0 else None


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class SpeechDriver:
    """Speaks one turn at a time with a loaded backend; not for concurrent ``speak`` calls."""

    def __init__(
        self,
        backend: TtsBackend,
        g2p: G2P,
        voice: str,
        speed: float = 1.0,
        frame_ms: int = 60,
        sample_rate: int | None = None,
        early_first_chunk: bool = True,
        max_pending_chunks: int = 8,
        release_parts: bool = False,
    ) -> None:
        backend.validate_voice(voice)  # unknown voice: fail now, with suggestions
        if not 0.5 <= speed <= 2.0:
            raise ValueError(f"speed must be between 0.5 and 2.0, got {speed}")
        self.backend = backend
        self.g2p = g2p
        self.voice = voice
        self.speed = speed
        self.frame_ms = frame_ms
        self.sample_rate = sample_rate or backend.capabilities.sample_rate
        self.early_first_chunk = early_first_chunk
        self.max_pending_chunks = max_pending_chunks
        # A turn's first chunk may be made in parts (its first window's audio ahead): each part is a
        # batch of its own when True; by default a chunk's parts are one batch, as ``say`` prints them.
        self.release_parts = release_parts
        self.stats = SpeakStats()
        self._cancel = threading.Event()
        self._cancel_at: float | None = None
        self._abort: AbortHandle | None = None
        self._abort_lock = threading.Lock()

    def cancel(self) -> None:
        """Stop the current turn now: nothing more is yielded, in-flight synthesis is abandoned."""
        with self._abort_lock:
            if self._cancel_at is None:
                self._cancel_at = time.perf_counter()
            self._cancel.set()
            if self._abort is not None:
                self._abort.abort()

    def speak(self, deltas: Iterable[str]) -> Iterator[FrameBatch]:
        """Yield frame batches as soon as each chunk is synthesized, while deltas still arrive."""
        self.stats = SpeakStats()
        self._cancel.clear()
        self._cancel_at = None
        t0 = time.perf_counter()
        plan = TurnSynthesisPlan(
            0, self.sample_rate, self.frame_ms, Segmenter(early_first_chunk=self.early_first_chunk)
        )
        plan_lock = threading.Lock()
        jobs: queue.Queue[ChunkJob | None] = queue.Queue(maxsize=self.max_pending_chunks)
        results: queue.Queue[tuple[ChunkJob, SynthesisResult | None] | _Failed | None] = queue.Queue(maxsize=4)

        def put_jobs(new: list[ChunkJob]) -> None:
            for job in new:
                while not self._cancel.is_set():
                    try:
                        jobs.put(job, timeout=_POLL_S)
                        break
                    except queue.Full:
                        continue

        def reader() -> None:
            try:
                for delta in deltas:
                    if self._cancel.is_set():
                        return
                    if self.stats.first_text_s is None:
                        self.stats.first_text_s = time.perf_counter() - t0
                    with plan_lock:
                        new = plan.push(delta)
                    put_jobs(new)
                with plan_lock:
                    new = plan.finish()
                put_jobs(new)
            except BaseException as exc:  # surface reader errors to the caller's thread
                _put(results, _Failed(exc), self._cancel)
            finally:
                _put(jobs, None, self._cancel)

        def worker() -> None:
            first = True  # the turn's first audio waits on this chunk
            while not self._cancel.is_set():
                try:
                    job = jobs.get(timeout=_POLL_S)
                except queue.Empty:
                    continue
                if job is None:
                    _put(results, None, self._cancel)
                    return
                try:
                    for result in self._synthesize(job, early=first):
                        first = first and result is None  # a chunk with nothing speakable is not the first audio
                        _put(results, (job, result), self._cancel)
                except SynthesisAborted:
                    return
                except BaseException as exc:
                    _put(results, _Failed(exc), self._cancel)
                    return

        held: list[AudioFrame] = []  # frames of a chunk whose later part is still being made
        threads = [threading.Thread(target=reader, daemon=True, name="tts-reader"),
                   threading.Thread(target=worker, daemon=True, name="tts-worker")]
        for t in threads:
            t.start()
        try:
            while True:
                if self._cancel.is_set():
                    break
                try:
                    item = results.get(timeout=_POLL_S)
                except queue.Empty:
                    continue
                if item is None:
                    break
                if isinstance(item, _Failed):
                    raise item.error
                job, result = item
                with plan_lock:
                    frames = held + (plan.skip(job) if result is None else plan.accept(job, result))
                if result is not None:
                    self.stats.compute_s += result.compute_s
                held = []
                if result is None or result.rest is None:  # the chunk's last part
                    self.stats.chunks += 1
                    self.stats.chunk_texts.append(job.text)
                elif not self.release_parts:
                    held, frames = frames, []  # one batch per chunk: wait for its last part
                if frames and not self._cancel.is_set():
                    now = time.perf_counter() - t0
                    if self.stats.ttfa_s is None:
                        self.stats.ttfa_s = now
                    self.stats.audio_s = plan.audio_s
                    yield FrameBatch(tuple(frames), job.text, now, plan.audio_s)
        finally:
            self._cancel.set()  # also stops the threads when the caller stops iterating
            if self._cancel_at is not None:
                with plan_lock:
                    plan.cancel()
            threads[1].join(timeout=10.0)  # the worker returns once ORT honours the abort
            end = time.perf_counter()
            self.stats.wall_s = end - t0
            if self._cancel_at is not None:
                self.stats.cancelled = True
                self.stats.stop_s = end - self._cancel_at

    def _synthesize(self, job: ChunkJob, early: bool) -> Iterator[SynthesisResult | None]:
        """The chunk's result, or its parts as each is made when ``early`` (the turn's first audio)
        and the backend answers with a ``rest``; None when nothing in it is speakable."""
        try:
            chunks = self.g2p.phonemize(job.text, self.voice)
        except ValueError:
            yield None  # nothing speakable in this chunk (e.g. only punctuation): skip it
            return
        if early and len(chunks) == 1:
            todo: PhonemizedChunk | None = replace(chunks[0], early_audio=True)
            while todo is not None:
                part = self._run(todo)
                yield part
                todo = part.rest
            return
        yield merge_results([self._run(chunk) for chunk in chunks])

    def _run(self, chunk: PhonemizedChunk) -> SynthesisResult:
        """One backend call, abandoned by :meth:`cancel` (before it starts or while it runs)."""
        with self._abort_lock:
            if self._cancel.is_set():
                raise SynthesisAborted("turn cancelled")
            abort = self._abort = self.backend.abort_handle() if self.backend.capabilities.abortable else None
        try:
            return self.backend.synthesize(chunk, self.voice, self.speed, abort)
        finally:
            with self._abort_lock:
                self._abort = None


def _put(q: queue.Queue, item: object, stop: threading.Event) -> None:  # type: ignore[type-arg]
    """Put into a bounded queue, giving up once ``stop`` is set (so no thread blocks forever)."""
    while True:
        try:
            q.put(item, timeout=_POLL_S)
            return
        except queue.Full:
            if stop.is_set():
                return
