"""Word and final latency of streaming recognition at real-time pacing (``--speed 1``).

Word latency: wall time when a word first enters the committed text (a partial's stable words or
the final) minus that word's end time in the audio. Final latency: wall time of the final minus
the end of speech (VAD's last voiced frame; the end-of-speech silence wait is included, as a user
experiences it). Wall time 0 is when feeding starts, so wall and audio clocks coincide.

    python -m bench.asr_latency [--quick] [--seconds N] [--file PATH] [--model whisper-base]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import SPEECH_DIR, print_table, summary_stats, write_result

LONGFORM = SPEECH_DIR / "longform" / "ljspeech_LJ001-0001_to_0032.wav"


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.asr_latency", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="first 45 s only")
    parser.add_argument("--smoke", action="store_true", help="first 8 s only (CI: does it still run?)")
    parser.add_argument("--seconds", type=float, help="cut the file to this many seconds")
    parser.add_argument("--file", type=Path, default=LONGFORM)
    parser.add_argument("--model", default="whisper-base")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    from streamvoice.asr.driver import chunked, run_stream
    from streamvoice.asr.events import Final, Partial, SpeechEnded
    from streamvoice.asr.loader import load_asr_backend
    from streamvoice.asr.options import StreamOptions
    from streamvoice.asr.stream import RecognizerStream
    from streamvoice.audio.resample import resample
    from streamvoice.audio.wavio import read_audio
    from streamvoice.config import load_config

    samples, rate = read_audio(args.file)
    if rate != 16000:
        samples = resample(samples, rate, 16000)
    seconds = args.seconds or (8.0 if args.smoke else 45.0 if args.quick else None)
    if seconds:
        samples = samples[: int(seconds * 16000)]
    config = load_config(overrides={"asr": {"model": args.model, "language": "en"}})
    backend: Any = load_asr_backend(config)
    options = StreamOptions.from_config(config.asr, multilingual=backend.multilingual)
    stream = RecognizerStream(options)

    word_latency: list[float] = []
    final_latency: list[float] = []
    committed: dict[int, int] = {}  # utterance -> committed words already timed
    speech_end: dict[int, float] = {}
    cpu0, t0 = time.process_time(), time.perf_counter()
    for event, _audio_s, wall_s in run_stream(stream, backend, chunked(samples), realtime=True):
        if isinstance(event, SpeechEnded):
            speech_end[event.utterance] = event.time_s
        if isinstance(event, Partial | Final):
            stable = event.words[: event.stable_count] if isinstance(event, Partial) else event.words
            seen = committed.get(event.utterance, 0)
            for word in stable[seen:]:
                word_latency.append(wall_s - word.end_s)
            committed[event.utterance] = max(seen, len(stable))
        if isinstance(event, Final) and event.utterance in speech_end and event.text:
            final_latency.append(wall_s - speech_end[event.utterance])
            print(f"[{event.start_s:7.2f}-{event.end_s:7.2f}] +{final_latency[-1]:.2f}s {event.text}", flush=True)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    audio_s = len(samples) / 16000
    words = summary_stats(word_latency)
    finals = summary_stats(final_latency)
    print_table(f"latency at real time, {audio_s:.0f} s of {args.file.name}, model {args.model}",
                [["word (committed - word end)", words["n"], words["p50"], words["p95"]],
                 ["final (emitted - speech end)", finals["n"], finals["p50"], finals["p95"]]],
                ["measure", "n", "p50 s", "p95 s"])
    figures = {
        "word_latency_p50_s": words["p50"], "word_latency_p95_s": words["p95"], "words": words["n"],
        "final_latency_p50_s": finals["p50"], "final_latency_p95_s": finals["p95"], "finals": finals["n"],
        "audio_s": round(audio_s, 1), "wall_s": round(wall, 1), "cpu_s_per_audio_s": round(cpu / audio_s, 3),
    }
    for key, value in figures.items():
        print(f"{key}: {value}")
    settings = {"model": args.model, "partial_interval_ms": options.partial_interval_ms,
                "end_of_speech_ms": options.end_of_speech_ms, "window_s": options.window_s,
                "threads_per_decode": config.asr.threads or "auto (1 on CPU)"}
    path = write_result("asr_latency", figures, settings=settings, argv=argv,
                        samples={"word_latency_s": word_latency, "final_latency_s": final_latency})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
