"""ASR capacity: how many concurrent real-time streams one machine holds before p95 lag passes 2 s.

N recognition streams (``RecognizerStream``) are fed at real time, each from its own stretch of
the long-form speech file, 20 ms at a time. Their decodes go through the server's engine
(``streamvoice.engine``: one worker thread owns the model; finals before partials, sessions in
turn), one decode at a time (``sequential``, ``asr_max_batch=1``) or everything queued, up to
``--max-batch``, as one ``decode_batch`` call (``batched``: cross-session batching). Without the
engine (``--scheduler worker``, or where it is not installed) a small worker thread here does
the same.

Lag of a decode = audio time fed when its result is ready − audio time its window covers up to.
It includes queueing, so it grows without bound once the worker cannot keep up. Capacity is the
largest N whose p95 lag stays within ``--max-lag`` (2 s), all smaller N passing too. CPU seconds
per audio second = process CPU time (all threads) / (N x audio seconds fed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import SPEECH_DIR, percentile, print_table, summary_stats, write_result

SAMPLE_RATE = 16_000
LONGFORM = "longform/ljspeech_LJ001-0001_to_0032.wav"
MODES = ("sequential", "batched", "laddered")


# -- pure parts (unit-tested without models) --------------------------------------------------------
@dataclass(slots=True)
class LevelResult:
    """One run of N streams in one mode."""

    mode: str
    streams: int
    audio_s: float  # audio seconds fed, all streams together
    wall_s: float
    cpu_s: float  # process CPU time over the run (all threads)
    busy_s: float  # seconds the worker spent decoding
    decodes: int
    batches: int
    lags: list[float] = field(default_factory=list)  # every decode's lag, seconds
    final_lags: list[float] = field(default_factory=list)  # lags of final decodes only
    ladder: dict[str, Any] | None = None  # laddered mode: share of time at each level, audio dropped
    word_latencies: list[float] = field(default_factory=list)  # committed-word latency, s (engine runs)

    @property
    def p95_lag(self) -> float | None:
        return percentile(self.lags, 95)

    def figures(self) -> dict[str, Any]:
        return {
            "streams": self.streams,
            "lag_s": summary_stats(self.lags),
            "final_lag_s": summary_stats(self.final_lags),
            "cpu_s_per_audio_s": round(self.cpu_s / self.audio_s, 4) if self.audio_s else None,
            "worker_utilisation": round(self.busy_s / self.wall_s, 3) if self.wall_s else None,
            "decodes": self.decodes,
            "mean_batch": round(self.decodes / self.batches, 2) if self.batches else None,
            "ladder": self.ladder,
            "word_latency_s": summary_stats(self.word_latencies),
        }


def capacity(levels: Sequence[LevelResult], max_lag_s: float, max_word_latency_s: float | None = None) -> int:
    """Largest N such that every level up to N kept p95 lag within ``max_lag_s`` (0 if none did)
    and, with ``max_word_latency_s``, p95 committed-word latency within that too.

    A level with no decodes at all (no speech heard) does not count as passing. Why the word
    latency: a saturated worker decodes each stream less often, which a decode's own lag does not
    show (whisper-base, Intel: lag p95 1.09 s at 5 streams while words came 3.99 s late at p95).
    """
    best = 0
    for level in sorted(levels, key=lambda lv: lv.streams):
        p95 = level.p95_lag
        if p95 is None or p95 > max_lag_s or _dropped(level):
            break
        if max_word_latency_s is not None:
            words = percentile(level.word_latencies, 95)
            if words is None or words > max_word_latency_s:
                break
        best = level.streams
    return best


def stream_offsets(total_s: float, seconds: float, count: int) -> list[float]:
    """Start times of ``count`` stretches of ``seconds`` spread over a file of ``total_s`` seconds."""
    span = max(0.0, total_s - seconds)
    if count <= 1 or span == 0.0:
        return [0.0] * count
    step = span / count
    return [round(i * step, 3) for i in range(count)]


# -- the measured run ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Job:
    stream: int
    request: Any  # DecodeRequest
    end_audio_s: float  # stream time its window ends


class _Worker(threading.Thread):
    """Owns the model: runs queued decodes one at a time, or all queued at once when batching."""

    def __init__(self, backend: Any, batched: bool, max_batch: int, t0: float) -> None:
        super().__init__(name="asr-capacity-worker", daemon=True)
        self.jobs: queue.PriorityQueue[tuple[int, int, _Job]] = queue.PriorityQueue()
        self.done: queue.SimpleQueue[tuple[_Job, Any, float]] = queue.SimpleQueue()
        self.stop = threading.Event()
        self.busy_s = 0.0
        self.batches = 0
        self.decoded = 0
        self._backend, self._batched, self._max_batch, self._t0 = backend, batched, max_batch, t0
        self._seq = 0

    def submit(self, job: _Job) -> None:
        self._seq += 1
        self.jobs.put((0 if job.request.kind == "final" else 1, self._seq, job))

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                batch = [self.jobs.get(timeout=0.05)[2]]
            except queue.Empty:
                continue
            while self._batched and len(batch) < self._max_batch:
                try:
                    batch.append(self.jobs.get_nowait()[2])
                except queue.Empty:
                    break
            started = time.monotonic()
            if len(batch) == 1:
                results = [self._backend.decode(batch[0].request)]
            else:
                results = self._backend.decode_batch([j.request for j in batch])
            finished = time.monotonic()
            self.busy_s += finished - started
            self.batches += 1
            self.decoded += len(batch)
            for job, result in zip(batch, results, strict=True):
                self.done.put((job, result, finished - self._t0))


def run_level(backend: Any, options: Any, clips: list[np.ndarray], *, mode: str, max_batch: int,
              chunk_ms: int = 20) -> LevelResult:
    """Feed ``len(clips)`` streams at real time for the clips' length; decodes on one worker."""
    from streamvoice.asr.stream import RecognizerStream

    streams = [RecognizerStream(options, stream_id=f"s{i}") for i in range(len(clips))]
    step = SAMPLE_RATE * chunk_ms // 1000
    total = min(len(c) for c in clips)
    lags: list[float] = []
    final_lags: list[float] = []
    cpu0 = time.process_time()
    t0 = time.monotonic()
    worker = _Worker(backend, mode == "batched", max_batch, t0)
    worker.start()
    try:
        for fed in range(0, total, step):
            wait = t0 + fed / SAMPLE_RATE - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            for stream, clip in zip(streams, clips, strict=True):
                stream.push_audio(clip[fed : fed + step])
            while True:  # apply every finished decode
                try:
                    job, result, at_s = worker.done.get_nowait()
                except queue.Empty:
                    break
                streams[job.stream].apply(job.request, result)
                lag = at_s - job.end_audio_s
                lags.append(lag)
                if job.request.kind == "final":
                    final_lags.append(lag)
            for i, stream in enumerate(streams):
                request = stream.next_request()
                if request is not None:
                    end = request.offset_s + len(request.audio) / SAMPLE_RATE
                    worker.submit(_Job(i, request, end))
    finally:
        worker.stop.set()
        worker.join(timeout=60.0)  # the decode in progress finishes; queued ones are abandoned
    wall = time.monotonic() - t0
    cpu = time.process_time() - cpu0
    return LevelResult(mode=mode, streams=len(clips), audio_s=len(clips) * total / SAMPLE_RATE, wall_s=wall,
                       cpu_s=cpu, busy_s=worker.busy_s, decodes=worker.decoded, batches=worker.batches, lags=lags,
                       final_lags=final_lags)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.asr_capacity", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="N in 1..3, 10 s each (under a minute)")
    parser.add_argument("--smoke", action="store_true", help="N in 1..2, 4 s each (CI: does it still run?)")
    parser.add_argument("--data", type=Path, default=SPEECH_DIR, help="speech folder (has longform/)")
    parser.add_argument("--file", default=LONGFORM, help="speech file inside --data, fed to every stream")
    parser.add_argument("--model", default="whisper-base")
    parser.add_argument("--language", default="en", help="fixed language ('auto' to detect per utterance)")
    parser.add_argument("--seconds", type=float, default=None, help="audio per stream (default 60, quick 10)")
    parser.add_argument("--max-streams", type=int, default=None, help="largest N tried (default 8, quick 3)")
    parser.add_argument("--max-lag", type=float, default=2.0, help="p95 lag, seconds, a level must stay within")
    parser.add_argument("--max-word-latency", type=float, default=2.5,
                        help="p95 committed-word latency, s, for the second capacity (one stream's target)")
    parser.add_argument("--max-batch", type=int, default=8, help="most decodes in one batch (batched mode)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--scheduler", choices=("engine", "worker"), default=None,
                        help="the server's engine (default, when present) or this file's worker thread")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    seconds = args.seconds or (4.0 if args.smoke else 10.0 if args.quick else 60.0)
    max_streams = args.max_streams or (2 if args.smoke else 3 if args.quick else 8)

    from streamvoice.asr.loader import load_asr_backend
    from streamvoice.asr.options import StreamOptions
    from streamvoice.audio.resample import resample
    from streamvoice.audio.wavio import read_audio
    from streamvoice.config import load_config

    config = load_config(overrides={"asr": {"model": args.model}})
    path = args.data / args.file
    audio, rate = read_audio(path)
    if rate != SAMPLE_RATE:
        audio = resample(audio, rate, SAMPLE_RATE)
    backend = load_asr_backend(config)
    options = StreamOptions.from_config(config.asr, language=args.language)
    _warm_up(backend, options, audio)

    scheduler = args.scheduler or ("engine" if _engine_available() else "worker")
    total_s = len(audio) / SAMPLE_RATE
    levels: list[LevelResult] = []
    live = list(args.modes)  # modes still within the limit; both arms of one N run back to back
    for n in range(1, max_streams + 1):
        offsets = stream_offsets(total_s, seconds, n)
        clips = [audio[int(o * SAMPLE_RATE) : int((o + seconds) * SAMPLE_RATE)] for o in offsets]
        for mode in list(live):
            same = next((lv for lv in levels if lv.streams == 1), None) if n == 1 else None
            if same is not None:  # one stream never has two decodes queued: batching cannot differ
                level = replace(same, mode=mode)
            else:
                level = _run(scheduler, backend, options, clips, mode=mode, max_batch=args.max_batch,
                             max_lag_ms=config.server.max_asr_lag_ms)
            levels.append(level)
            words = f"{_s(percentile(level.word_latencies, 50))}/{_s(percentile(level.word_latencies, 95))}"
            print(f"  {mode:10} N={n}: p95 lag {_s(level.p95_lag)}, committed words p50/p95 {words}, CPU s/audio s "
                  f"{level.cpu_s / level.audio_s:.3f}, worker busy {level.busy_s / level.wall_s:.0%}", flush=True)
            if level.ladder is not None:
                print(f"             time at ladder levels 0-3 {level.ladder['share_at_level']}, "
                      f"audio dropped {level.ladder['dropped_s']} s", flush=True)
            if level.p95_lag is None or level.p95_lag > args.max_lag or _dropped(level):
                live.remove(mode)  # past capacity: larger N only take longer to fail
        if not live:
            break

    figures = _figures(levels, args.max_lag, args.max_word_latency)
    rows = [[lv.mode, lv.streams, lv.p95_lag, percentile(lv.lags, 50), percentile(lv.final_lags, 95),
             lv.cpu_s / lv.audio_s, lv.busy_s / lv.wall_s, lv.decodes / max(1, lv.batches)] for lv in levels]
    print_table(f"ASR capacity ({args.model}, {seconds:.0f} s per stream, p95 lag limit {args.max_lag} s)", rows,
                ["mode", "N", "p95 lag", "p50 lag", "p95 final lag", "CPU s/audio s", "worker busy", "batch"])
    bounds = figures["capacity_is_lower_bound"]
    print("capacity: " + ", ".join(f"{m} {'>=' if bounds[m] else ''}{n}" for m, n in figures["capacity"].items()))
    if "capacity_word_latency" in figures:
        print(f"capacity with committed words p95 <= {args.max_word_latency} s too: "
              + ", ".join(f"{m} {n}" for m, n in figures["capacity_word_latency"].items()))
    settings = {"model": args.model, "backend": getattr(backend, "name", "?"), "compute": config.asr.compute_type,
                "threads_per_decode": config.asr.threads or "auto",
                "parallel_decodes": _parallel(backend), "file": args.file, "seconds_per_stream": seconds,
                "language": args.language, "partial_interval_ms": options.partial_interval_ms,
                "max_lag_s": args.max_lag, "max_batch": args.max_batch, "chunk_ms": 20, "scheduler": scheduler,
                "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
                "note": "N=1 is run once and counted for both modes (one stream never queues two decodes)"}
    samples = {f"lag {lv.mode} N={lv.streams}": lv.lags for lv in levels}
    print(f"wrote {write_result('asr_capacity', figures, settings=settings, argv=argv, samples=samples)}")
    return 0


def _figures(levels: list[LevelResult], max_lag_s: float, max_word_latency_s: float | None = None) -> dict[str, Any]:
    by_mode = {mode: [lv for lv in levels if lv.mode == mode] for mode in MODES}
    out: dict[str, Any] = {"capacity": {mode: capacity(lvs, max_lag_s) for mode, lvs in by_mode.items() if lvs}}
    if max_word_latency_s is not None and any(lv.word_latencies for lv in levels):
        out["capacity_word_latency"] = {mode: capacity(lvs, max_lag_s, max_word_latency_s)
                                        for mode, lvs in by_mode.items() if lvs}
        out["max_word_latency_s"] = max_word_latency_s
    # every N tried passed: the true capacity is at least this (raise --max-streams to find it)
    out["capacity_is_lower_bound"] = {mode: bool(lvs) and out["capacity"][mode] == max(lv.streams for lv in lvs)
                                      for mode, lvs in by_mode.items() if lvs}
    single = next((lv for lv in levels if lv.streams == 1), None)
    if single is not None:
        out["cpu_s_per_audio_s_1_stream"] = round(single.cpu_s / single.audio_s, 4)
    caps = out["capacity"]
    if caps.get("sequential") and "batched" in caps:
        out["batched_over_sequential_capacity"] = round(caps["batched"] / caps["sequential"], 2)
    ratios = {}
    for seq in by_mode["sequential"]:
        bat = next((lv for lv in by_mode["batched"] if lv.streams == seq.streams), None)
        if seq.streams > 1 and bat is not None and bat.p95_lag is not None and seq.p95_lag:
            ratios[f"n{seq.streams}"] = round(bat.p95_lag / seq.p95_lag, 3)
    if ratios:
        out["p95_lag_batched_over_sequential"] = ratios
    out["levels"] = {f"{lv.mode}_n{lv.streams}": lv.figures() for lv in levels}
    return out


def _dropped(level: LevelResult) -> bool:
    """A laddered level that dropped audio did not hold its streams, whatever its lag."""
    return bool(level.ladder and level.ladder["dropped_s"] > 0)


def _parallel(backend: Any) -> int:
    """Decodes the backend runs at once (the engine gives it that many threads)."""
    return int(getattr(getattr(backend, "capabilities", None), "parallel", 1))


def _engine_available() -> bool:
    try:
        import streamvoice.engine.engine  # noqa: F401
    except ImportError:
        return False
    return True


def _run(scheduler: str, backend: Any, options: Any, clips: list[np.ndarray], *, mode: str,
         max_batch: int, max_lag_ms: int) -> LevelResult:
    if scheduler == "worker" and mode != "laddered":
        return run_level(backend, options, clips, mode=mode, max_batch=max_batch)
    from bench.capacity_engine import run_level_engine

    raw = asyncio.run(run_level_engine(backend, options, clips, mode=mode, max_batch=max_batch,
                                       max_lag_ms=max_lag_ms))
    return LevelResult(mode=mode, streams=len(clips), **raw)


def _warm_up(backend: Any, options: Any, audio: np.ndarray) -> None:
    """One decode before timing: the first call allocates and is not what a running server sees."""
    from streamvoice.asr.backend import DecodeRequest

    backend.decode(DecodeRequest(audio=audio[: 2 * SAMPLE_RATE], offset_s=0.0, prompt="", language="en",
                                 task="transcribe", word_timestamps=True, kind="partial"))


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


if __name__ == "__main__":
    raise SystemExit(main())
