"""Live captioning on a busy machine: word latency through the real server while other processes
keep cores busy, and the ``flow`` levels the server announced meanwhile.

One WebSocket session streams the long-form dev reading at real time (20 ms chunks) to the real
server (real models, ``language`` en); the same file is run once per ``--busy`` count, back to back
on the same loaded engine, each time with that many other processes spinning on the CPU (plain
Python busy loops at normal priority, what a neighbour on a shared machine is). Word latency =
wall time when a word first appears among the committed words (a partial's ``stable_text``, or the
final) minus the word's end in the audio; wall time 0 is when feeding starts. The run with 0 busy
processes is the baseline in the same run, so the ratio means something on a noisy machine.
Every ``flow`` message (degradation level, lag, audio dropped) is counted: a degradation the
client was not told about would show as latency with no level change.

    python -m bench.asr_busy [--quick | --smoke] [--busy 0,1] [--seconds N] [--model whisper-base]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import SPEECH_DIR, print_table, summary_stats, write_result

LONGFORM = SPEECH_DIR / "longform" / "ljspeech_LJ001-0001_to_0032.wav"
SAMPLE_RATE = 16_000
CHUNK_MS = 20
_SPIN = "while True: pass"


@dataclass
class BusyRun:
    """What one session saw with ``busy`` spinning processes beside the server."""

    busy: int
    word_latency: list[float] = field(default_factory=list)
    final_latency: list[float] = field(default_factory=list)
    flows: list[dict[str, Any]] = field(default_factory=list)  # each flow message: t, level, lag, dropped
    words: list[str] = field(default_factory=list)  # the finals' text, in order
    errors: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        w, f = summary_stats(self.word_latency), summary_stats(self.final_latency)
        return {"busy_processes": self.busy, "words": w["n"], "word_latency_p50_s": w["p50"],
                "word_latency_p95_s": w["p95"], "finals": f["n"], "final_latency_p50_s": f["p50"],
                "flow_messages": len(self.flows), "highest_level": max((x["level"] for x in self.flows), default=0),
                "dropped_ms": sum(x["dropped_ms"] for x in self.flows), "errors": self.errors,
                "flow": self.flows}


@contextlib.contextmanager
def spinning(count: int) -> Iterator[None]:
    """``count`` other processes each keeping one core busy until the block ends."""
    procs = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(count)]
    try:
        yield
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


async def stream_file(url: str, audio: np.ndarray, busy: int, tail_s: float = 3.0) -> BusyRun:
    """Stream ``audio`` at real time through one session; time each committed word and final."""
    from streamvoice.client import connect
    from streamvoice.protocol import ErrorMessage, Final, Partial, ServerFlow, Speech
    from streamvoice.protocol.options import AsrOptions

    run = BusyRun(busy)
    seen: dict[int, int] = {}  # utterance -> committed words already timed
    speech_end: dict[int, float] = {}
    async with connect(url, asr=AsrOptions(language="en")) as session:
        t0 = time.monotonic()

        def committed(utterance: int, words: Sequence[Any], count: int) -> None:
            now = time.monotonic() - t0
            for w in words[seen.get(utterance, 0) : count]:
                run.word_latency.append(now - w.end_s)
            seen[utterance] = max(seen.get(utterance, 0), count)

        async def receive() -> None:
            async for msg in session:
                if isinstance(msg, Partial) and msg.words:
                    committed(msg.utterance, msg.words, min(len(msg.words), len(msg.stable_text.split())))
                elif isinstance(msg, Final) and not msg.eager:
                    committed(msg.utterance, msg.words, len(msg.words))
                    if msg.text.strip():
                        run.words.append(msg.text)
                        if msg.utterance in speech_end:
                            run.final_latency.append(time.monotonic() - t0 - speech_end[msg.utterance])
                elif isinstance(msg, Speech) and msg.event == "end":
                    speech_end[msg.utterance] = msg.time_s
                elif isinstance(msg, ServerFlow):
                    run.flows.append({"t": round(time.monotonic() - t0, 2), "level": msg.level,
                                      "lag_ms": msg.lag_ms, "dropped_ms": msg.dropped_ms})
                elif isinstance(msg, ErrorMessage):
                    run.errors.append(f"{msg.code}: {msg.message}")

        receiver = asyncio.create_task(receive())
        step = SAMPLE_RATE * CHUNK_MS // 1000
        padded = np.concatenate([audio, np.zeros(int(tail_s * SAMPLE_RATE), np.float32)])
        for sent in range(0, len(padded), step):
            wait = t0 + (sent + step) / SAMPLE_RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            await session.send_audio(padded[sent : sent + step])
        await session.end_audio()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(receiver), 15.0)  # the last final after audio_end
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver
    return run


async def _run_all(model: str, audio: np.ndarray, counts: Sequence[int]) -> list[BusyRun]:
    from bench.voice_loop import local_engine

    runs = []
    async with local_engine(model) as serve, serve(asr={"language": "en"}) as url:
        for count in counts:
            with spinning(count):
                await asyncio.sleep(0.5 if count else 0.0)  # let them reach the scheduler before the clock starts
                runs.append(await stream_file(url, audio, count))
            print(f"  busy {count}: {runs[-1].figures()}", flush=True)
            await asyncio.sleep(2.0)  # the spinners are gone and the session closed before the next run
    return runs


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.asr_busy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="first 45 s")
    parser.add_argument("--smoke", action="store_true", help="first 8 s (CI: does it still run?)")
    parser.add_argument("--seconds", type=float, help="cut the file to this many seconds")
    parser.add_argument("--busy", default="0,1", help="busy-process counts to run, comma-separated")
    parser.add_argument("--file", type=Path, default=LONGFORM)
    parser.add_argument("--model", default="whisper-base")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    from streamvoice.audio.resample import resample
    from streamvoice.audio.wavio import read_audio

    audio, rate = read_audio(args.file)
    if rate != SAMPLE_RATE:
        audio = resample(audio, rate, SAMPLE_RATE)
    seconds = args.seconds or (8.0 if args.smoke else 45.0 if args.quick else None)
    if seconds:
        audio = audio[: int(seconds * SAMPLE_RATE)]
    counts = [int(c) for c in args.busy.split(",") if c.strip()]
    runs = asyncio.run(_run_all(args.model, np.asarray(audio, np.float32), counts))
    rows = []
    for r in runs:
        f = r.figures()
        rows.append([r.busy, f["words"], f["word_latency_p50_s"], f["word_latency_p95_s"], f["final_latency_p50_s"],
                     f["flow_messages"], f["highest_level"], f["dropped_ms"]])
    print_table(f"word latency through the server, {len(audio) / SAMPLE_RATE:.0f} s of {args.file.name}, "
                f"{args.model}, with N busy processes", rows,
                ["busy", "words", "p50 s", "p95 s", "final p50 s", "flow msgs", "max level", "dropped ms"])
    figures: dict[str, Any] = {f"busy_{r.busy}": r.figures() for r in runs}
    base = next((r for r in runs if r.busy == 0), None)
    for r in runs:
        b95, r95 = (summary_stats(x.word_latency)["p95"] for x in (base, r)) if base else (None, None)
        if base is not None and r.busy and b95 and r95:
            figures[f"p95_ratio_busy_{r.busy}_over_quiet"] = round(float(r95) / float(b95), 3)
    settings = {"model": args.model, "file": args.file.name, "audio_s": round(len(audio) / SAMPLE_RATE, 1),
                "busy_counts": counts, "chunk_ms": CHUNK_MS}
    samples = {f"word_latency_s busy={r.busy}": r.word_latency for r in runs}
    print(f"wrote {write_result('asr_busy', figures, settings=settings, argv=argv, samples=samples)}")
    return 0 if all(not r.errors for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
