"""Where the CPU of one live stream goes: per decode stage, per audio second, and what is left.

The recognizer is run over the long-form dev reading at instant compute (``--speed 0``: the same
decodes, windows and prompts a real-time run makes on an infinitely fast machine, so the schedule
does not depend on this machine's load) with every stage of the engine timed in CPU seconds
(``time.process_time``: all threads of this process, what the stream costs the machine):

* ``mel``: log-mel features of each window; ``encode``: the encoder pass (adaptive or 30 s width);
  ``detect``: language detection; ``generate``: the decoder (beam search, fallbacks included);
  ``align``: word times (cross-attention and DTW); ``decode other``: the rest of a decode (prompt
  building, word grouping, the guard), measured as the decode's total minus its stages;
* ``stream``: the stream itself outside decodes (VAD on 30 ms frames, buffering, agreement);
* ``resample``: the same audio resampled from 48 kHz (what a browser records) to 16 kHz, timed
  apart, since a 16 kHz client skips it.

Prints CPU seconds per audio second and the share of each, and decodes per audio second by kind.

    python -m bench.asr_cost [--quick | --smoke] [--seconds 120] [--model whisper-base]
                             [--partial-model whisper-tiny.en]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench.asr_latency import LONGFORM
from bench.common import print_table, write_result

STAGES = ("mel", "encode", "detect", "generate", "align")
_ENGINE_METHODS = {"features": "mel", "encode": "encode", "detect_language": "detect", "generate": "generate",
                   "align": "align"}


class _TimedEngine:
    """The backend's engine with each stage's CPU time added up (everything else passes through)."""

    def __init__(self, engine: Any, cpu: dict[str, float]) -> None:
        self._engine = engine
        self._cpu = cpu

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._engine, name)
        stage = _ENGINE_METHODS.get(name)
        if stage is None or not callable(value):
            return value

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return value(*args, **kwargs)
            finally:
                self._cpu[stage] += time.process_time() - started

        return timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="the first 40 s")
    size.add_argument("--smoke", action="store_true", help="the first 8 s (CI: does it still run?)")
    parser.add_argument("--seconds", type=float, default=120.0, help="seconds of the file to run")
    parser.add_argument("--file", type=Path, default=LONGFORM)
    parser.add_argument("--model", default="whisper-base")
    parser.add_argument("--partial-model", default="",
                        help="partials on this smaller model (asr.partial_model); writes asr_cost_two_model")
    args = parser.parse_args(argv)
    seconds = 8.0 if args.smoke else 40.0 if args.quick else args.seconds

    from streamvoice.asr.driver import chunked
    from streamvoice.asr.loader import load_asr_backend
    from streamvoice.asr.options import StreamOptions
    from streamvoice.asr.stream import RecognizerStream
    from streamvoice.audio.resample import resample
    from streamvoice.audio.wavio import read_audio
    from streamvoice.config import load_config

    config = load_config(None, {"asr": {"model": args.model, "backend": "ctranslate2"}})
    backend = load_asr_backend(config)
    samples, rate = read_audio(args.file)
    audio = (samples if rate == 16000 else resample(samples, rate, 16000))[: int(seconds * 16000)]
    audio_s = len(audio) / 16000.0

    cpu: dict[str, float] = defaultdict(float)
    decoder = backend._decoder  # the shared window decoder (streamvoice.asr.window_decoder)
    decoder.engine = _TimedEngine(decoder.engine, cpu)
    if args.partial_model:  # both models' stages add up in the same rows
        from streamvoice.asr.two_model import TwoModelBackend

        small = load_asr_backend(config, args.partial_model)
        small._decoder.engine = _TimedEngine(small._decoder.engine, cpu)
        backend = TwoModelBackend(backend, small)
    stream = RecognizerStream(StreamOptions.from_config(config.asr))
    kinds: Counter[str] = Counter()
    decode_cpu = stream_cpu = 0.0
    wall = time.perf_counter()
    for chunk in [*chunked(audio), None]:
        started = time.process_time()
        if chunk is None:
            stream.end_audio()
            stream.close()
        else:
            stream.push_audio(chunk)
        stream_cpu += time.process_time() - started
        while (request := stream.next_request()) is not None:
            kinds[request.kind] += 1
            if args.partial_model and backend.takes(request):
                kinds[f"{request.kind} on {args.partial_model}"] += 1
            started = time.process_time()
            result = backend.decode(request)
            decode_cpu += time.process_time() - started
            started = time.process_time()
            stream.apply(request, result)
            stream_cpu += time.process_time() - started
    wall = time.perf_counter() - wall

    started = time.process_time()
    resample(resample(audio, 16000, 48000), 48000, 16000)  # (the 16 -> 48 kHz leg is about as cheap)
    resample_cpu = (time.process_time() - started) / 2

    parts = {stage: cpu[stage] for stage in STAGES}
    parts["decode other"] = max(0.0, decode_cpu - sum(parts.values()))
    parts["stream (VAD, buffer, agreement)"] = stream_cpu
    total = decode_cpu + stream_cpu
    decodes = sum(n for kind, n in kinds.items() if " on " not in kind)
    figures: dict[str, Any] = {
        "cpu_s_per_audio_s": total / audio_s,
        "per_audio_s": {name: value / audio_s for name, value in parts.items()},
        "share": {name: value / total for name, value in parts.items()},
        "ms_per_decode": {name: 1000 * value / max(decodes, 1) for name, value in parts.items()},
        "decodes_per_audio_s": {kind: n / audio_s for kind, n in kinds.items()},
        "resample_48k_cpu_s_per_audio_s": resample_cpu / audio_s,
        "wall_s": wall,
    }
    rows = [[name, parts[name] / audio_s, 100 * parts[name] / total, 1000 * parts[name] / max(decodes, 1)]
            for name in parts]
    rows.append(["all", total / audio_s, 100.0, 1000 * total / max(decodes, 1)])
    rows.append(["(resample 48 -> 16 kHz, apart)", resample_cpu / audio_s, "", ""])
    name = "asr_cost_two_model" if args.partial_model else "asr_cost"  # never over the one-model figures
    write_result(name, figures, argv=argv, module="asr_cost", settings={
        "model": args.model, "partial_model": args.partial_model or None, "file": args.file.name,
        "audio_s": round(audio_s, 1), "speed": 0,
        "partial_interval_ms": config.asr.partial_interval_ms, "beam_size": config.asr.beam_size,
        "partial_beam_size": config.asr.partial_beam_size,
        "threads_per_decode": config.asr.threads or "auto (1 on CPU)",
        "decodes": dict(kinds)})
    models = args.model + (f" (partials on {args.partial_model})" if args.partial_model else "")
    print_table(f"CPU of one stream, {models}, {audio_s:.0f} s of {args.file.name} at speed 0 "
                f"({decodes} decodes: {dict(kinds)})", rows,
                ["stage", "CPU s / audio s", "share %", "CPU ms / decode"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
