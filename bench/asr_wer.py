"""Streaming WER (``--speed 0`` semantics) vs offline faster-whisper, same clips, same model.

Offline: faster-whisper's ``transcribe`` on the whole clip (language fixed, same beam size,
its own defaults otherwise). Streaming: our RecognizerStream fed 20 ms chunks with instant
compute, in two arms back to back: the adaptive encoder window (default) and the full 30 s
window. Both sides go through ``streamvoice.textnorm.normalize``; WER is corpus-level
(total errors / total reference words).

    python -m bench.asr_wer [--quick] [--data PATH] [--model whisper-base]
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import SPEECH_DIR, print_table, write_result


def exact_english_clips(data: Path) -> list[tuple[Path, str, float]]:
    with (data / "manifest.tsv").open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [
        (data / r["file"], r["reference_text"], float(r["duration_s"]))
        for r in rows
        if r["language"] == "en" and r["reference_quality"] == "exact"
    ]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.asr_wer", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="first 6 clips only")
    parser.add_argument("--smoke", action="store_true", help="the shortest clip only (CI: does it still run?)")
    parser.add_argument("--data", type=Path, default=SPEECH_DIR, help="folder with manifest.tsv")
    parser.add_argument("--model", default="whisper-base")
    parser.add_argument("--no-full-window", action="store_true", help="skip the full 30 s window arm")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    from streamvoice.asr.driver import chunked, run_stream
    from streamvoice.asr.events import Final
    from streamvoice.asr.loader import load_asr_backend
    from streamvoice.asr.options import StreamOptions
    from streamvoice.asr.stream import RecognizerStream
    from streamvoice.audio.resample import resample
    from streamvoice.audio.wavio import read_audio
    from streamvoice.config import load_config
    from streamvoice.textnorm import word_errors

    clips = exact_english_clips(args.data)
    if args.quick:
        clips = clips[:6]
    if args.smoke:
        clips = sorted(clips, key=lambda clip: clip[2])[:1]
    config = load_config(overrides={"asr": {"model": args.model, "language": "en"}})
    backend: Any = load_asr_backend(config)
    options = StreamOptions.from_config(config.asr, multilingual=backend.multilingual)
    fw_model = backend._fw  # the same loaded weights, through faster-whisper's offline path

    arms = ["offline", "stream_adaptive"] + ([] if args.no_full_window else ["stream_full"])
    errors = dict.fromkeys(arms, 0)
    compute = dict.fromkeys(arms, 0.0)
    words = 0
    audio_s = 0.0
    rows = []
    for path, reference, duration in clips:
        samples, rate = read_audio(path)
        if rate != 16000:
            samples = resample(samples, rate, 16000)
        hyps: dict[str, str] = {}
        t = time.perf_counter()
        segments, _ = fw_model.transcribe(samples, language="en", beam_size=config.asr.beam_size, vad_filter=False)
        hyps["offline"] = " ".join(s.text.strip() for s in segments)
        compute["offline"] += time.perf_counter() - t
        for arm in arms[1:]:
            backend.adaptive_window = arm == "stream_adaptive"
            t = time.perf_counter()
            stream = RecognizerStream(options)
            events = [e for e, _, _ in run_stream(stream, backend, chunked(samples), realtime=False)]
            compute[arm] += time.perf_counter() - t
            hyps[arm] = " ".join(e.text for e in events if isinstance(e, Final) and e.text)
        n = 0
        row: list[Any] = [path.name]
        for arm in arms:
            e, n = word_errors(reference, hyps[arm])
            errors[arm] += e
            row.append(e)
        words += n
        audio_s += duration
        rows.append([*row, n])
        print(f"{path.name}: " + " | ".join(f"{a}: {hyps[a]}" for a in arms[:2]), flush=True)
    backend.adaptive_window = True
    wer = {arm: errors[arm] / max(1, words) for arm in arms}
    print_table(f"WER on {len(clips)} exact English clips ({audio_s:.0f} s), model {args.model}",
                [*rows, ["TOTAL", *(errors[a] for a in arms), words]], ["clip", *arms, "ref words"])
    figures: dict[str, Any] = {f"wer_{arm}": round(wer[arm], 4) for arm in arms}
    figures.update({f"compute_s_per_audio_s_{arm}": round(compute[arm] / audio_s, 3) for arm in arms})
    figures["relative_wer_stream_vs_offline"] = (
        round(wer["stream_adaptive"] / wer["offline"] - 1.0, 4) if wer["offline"] else None
    )
    figures.update({"clips": len(clips), "reference_words": words, "audio_s": round(audio_s, 1)})
    for key, value in figures.items():
        print(f"{key}: {value}")
    settings = {"model": args.model, "beam_size": config.asr.beam_size,
                "partial_interval_ms": options.partial_interval_ms, "window_s": options.window_s,
                "vad_aggressiveness": options.vad_aggressiveness}
    print(f"wrote {write_result('asr_wer', figures, settings=settings, argv=argv)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
