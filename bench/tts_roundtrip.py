"""Round-trip intelligibility: development sentences -> speech -> whisper-base -> WER, per category.

The sentences (``bench/data/tts_sentences.tsv``, written for this benchmark) carry capitals,
numbers, times, money, abbreviations, names, dates, units and symbols. Three systems speak each one
with the same int8 Kokoro file and voice, in the same run:

- ``streamed``: streamvoice as the server speaks a reply streamed word by word (the segmenter's
  early first chunk, then sentences; fades at each join): the quality the user hears;
- ``whole``: streamvoice on the whole text at once (normalisation + G2P, no early cut), so the
  difference to ``streamed`` is the cost of the earlier first chunk;
- ``kokoro-onnx``: kokoro-onnx 0.6.1's ``create`` (see ``bench/tts_reference.py``);
- with ``--first-window-ms MS``, also ``streamed-window``: ``streamed`` with the turn's first chunk
  vocoded in two windows (``tts.first_audio_window_ms`` = MS, the head sized at the vocoder pace
  measured at load), its parts framed as the server frames them; ``streamed`` itself then runs
  with the setting off, so the pair is the setting off and on in one run.

Offline faster-whisper (whisper-base, beam 5) transcribes each; both sides go through
``streamvoice.textnorm``. A sentence may list spoken alternatives ("Dr." -> "Doctor") in its third
column; the reference with the fewest errors counts, for every system alike.

    python -m bench.tts_roundtrip [--quick | --smoke] [--voice af_heart] [--threads N] [--first-window-ms MS]
    python -m bench.tts_roundtrip --rescore bench/results/tts_roundtrip.json   # score saved transcripts again
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import print_table, write_result

DATA = Path(__file__).resolve().parent / "data" / "tts_sentences.tsv"
SYSTEMS = ("streamed", "whole", "kokoro-onnx")
WINDOWED = "streamed-window"
QUICK_CATEGORIES = ("capitals", "numbers", "currency", "abbreviations", "names")


def sentences(limit_per_category: int | None = None) -> list[tuple[str, str, list[str]]]:
    """(category, text, references) rows; references = [text, *spoken alternatives]."""
    with DATA.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    seen: dict[str, int] = defaultdict(int)
    out = []
    for row in rows:
        seen[row["category"]] += 1
        if limit_per_category is None or seen[row["category"]] <= limit_per_category:
            alternatives = [a.strip() for a in (row.get("also") or "").split("|") if a.strip()]
            out.append((row["category"], row["text"], [row["text"], *alternatives]))
    return out


_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b")
_DOTTED_CLOCK = re.compile(r"\b\d{1,2}\.\d{2}\b")


def errors_against(refs: list[str], heard: str) -> tuple[int, int]:
    """Fewest (errors, words) over the references; ordinals ("3rd" / "third") and the reference's
    clock times ("9.30" heard for "9:30") made alike on both sides first, which
    ``streamvoice.textnorm`` does not do (it reads "3rd" as "three rd" and "9.30" as a decimal)."""
    from num2words import num2words

    from streamvoice.textnorm import word_errors

    clocks = {m.group() for ref in refs for m in _CLOCK.finditer(ref)}

    def same(text: str) -> str:  # whisper writes "9.30" as often as "9:30" for the time said
        text = _DOTTED_CLOCK.sub(lambda m: m.group().replace(".", ":") if m.group().replace(".", ":") in clocks
                                 else m.group(), text)
        return _ORDINAL.sub(lambda m: str(num2words(int(m.group(1)), to="ordinal")), text)

    return min((word_errors(same(ref), same(heard)) for ref in refs), key=lambda pair: pair[0] / max(pair[1], 1))


Parts = Callable[[str, bool], list[Any]]  # (chunk text, the turn's first audio?) -> SynthesisResult parts


def streamed_audio(text: str, speak: Parts) -> tuple[np.ndarray, float]:
    """The turn audio the server sends for ``text`` streamed word by word (shared framing path)."""
    from streamvoice.tts.turn import TurnSynthesisPlan

    plan = TurnSynthesisPlan(0, sample_rate=24_000)
    words = text.split(" ")
    jobs = [job for i, w in enumerate(words) for job in plan.push(w + (" " if i < len(words) - 1 else ""))]
    jobs += plan.finish()
    pcm: list[bytes] = []
    compute = 0.0
    first = True
    for job in jobs:
        parts = speak(job.text, first)
        if not parts:
            plan.skip(job)
            continue
        first = False
        for part in parts:
            compute += part.compute_s
            pcm += [f.pcm for f in plan.accept(job, part)]
    return np.frombuffer(b"".join(pcm), "<i2").astype(np.float32) / 32768.0, compute


def report(items: list[tuple[str, str, list[str]]], heard_by: dict[str, list[str]], rtf: dict[str, float],
           args: argparse.Namespace, argv: Sequence[str] | None) -> Path:
    """Per-category WER of every system, printed and written to the result file."""
    systems = tuple(heard_by)
    errors: dict[str, dict[str, int]] = {s: defaultdict(int) for s in systems}
    words: dict[str, int] = defaultdict(int)
    for i, (category, _, refs) in enumerate(items):
        for system in systems:
            e, n = errors_against(refs, heard_by[system][i])
            errors[system][category] += e
            errors[system]["all"] += e
            if system == systems[0]:
                words[category] += n
                words["all"] += n
    categories = [*dict.fromkeys(c for c, _, _ in items), "all"]
    wer = {s: {c: errors[s][c] / words[c] for c in categories if words[c]} for s in systems}
    rows = [[c, words[c], *(wer[s][c] for s in systems)] for c in categories]
    print_table(f"Round-trip WER, {args.voice} -> whisper-base (beam 5), {len(items)} sentences", rows,
                ["category", "words", *systems])
    print("\nRTF (synthesis s / audio s): " + ", ".join(f"{s} {v:.3f}" for s, v in rtf.items()))
    return write_result(
        "tts_roundtrip",
        {"wer": {s: wer[s]["all"] for s in systems}, "wer_by_category": wer,
         "errors": {s: dict(errors[s]) for s in systems}, "words": dict(words), "sentences": len(items), "rtf": rtf,
         "transcripts": {"texts": [t for _, t, _ in items], **heard_by}},
        settings={"quick": args.quick, "smoke": args.smoke, "voice": args.voice, "threads": args.threads,
                  "first_window_ms": args.first_window_ms, "first_window_pace": args.first_window_pace,
                  "asr": "whisper-base int8, beam 5", "data": str(DATA.relative_to(DATA.parents[2]))},
        argv=argv, mode="smoke" if args.smoke else "quick" if args.quick else "full",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="one sentence in each of 5 categories instead of all")
    size.add_argument("--smoke", action="store_true", help="two sentences: does it still run?")
    parser.add_argument("--voice", default="af_heart")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--first-window-ms", type=int, default=0,
                        help="also speak the streamed text with tts.first_audio_window_ms = MS (streamed-window)")
    parser.add_argument("--first-window-pace", type=float, default=0.0,
                        help="size first windows for this vocoder pace, s per 25 ms frame, not the one measured at "
                             "load (the load decides whether and where a chunk splits: pin it to compare renderings)")
    parser.add_argument("--systems", default="",
                        help="speak only these systems, comma-separated (a partial run: compare within it only)")
    parser.add_argument("--rescore", type=Path, metavar="RESULT_JSON",
                        help="score the transcripts saved in a result file again (no synthesis, no ASR)")
    args = parser.parse_args(argv)
    if args.rescore is not None:
        saved = json.loads(args.rescore.read_text())
        figures, settings = saved["figures"], saved["settings"]
        args.quick, args.smoke, args.voice, args.threads = (settings[k] for k in ("quick", "smoke", "voice", "threads"))
        args.first_window_ms = settings.get("first_window_ms", 0)
        by_text = {t: (c, t, refs) for c, t, refs in sentences()}
        items = [by_text[t] for t in figures["transcripts"]["texts"]]
        transcripts = {s: figures["transcripts"][s] for s in (*SYSTEMS, WINDOWED) if s in figures["transcripts"]}
        print(f"wrote {report(items, transcripts, figures['rtf'], args, argv)}")
        return 0

    from faster_whisper import WhisperModel

    from bench.tts_reference import load_kokoro_onnx
    from streamvoice.audio import resample
    from streamvoice.config import load_config
    from streamvoice.models import require
    from streamvoice.tts.g2p import phonemizer_for_voice
    from streamvoice.tts.kokoro_onnx import load_kokoro
    from streamvoice.tts.turn import merge_results

    config = load_config(overrides={"tts": {"threads": args.threads, "voice": args.voice,
                                            "first_audio_window_ms": 0}})
    model_dir = require(config.models.dir, "kokoro-82m")
    kokoro = load_kokoro(model_dir, config.tts)
    windowed = None
    if args.first_window_ms:
        windowed = load_kokoro(model_dir, config.tts.model_copy(update={"first_audio_window_ms": args.first_window_ms}))
        if windowed.split is not None and args.first_window_pace > 0:
            windowed.split.pace.seconds_per_frame = args.first_window_pace
        if windowed.split is not None:
            print(f"{WINDOWED}: vocoder pace measured at load {windowed.split.pace.seconds_per_frame * 1000:.2f} ms "
                  "per 25 ms frame (sizes the first window)" + (" (pinned)" if args.first_window_pace > 0 else ""))
    reference = load_kokoro_onnx(model_dir, args.voice, args.threads)
    g2p = phonemizer_for_voice(args.voice)
    asr = WhisperModel(str(require(config.models.dir, "whisper-base")), device="cpu", compute_type="int8",
                       cpu_threads=args.threads or 0)

    def ours(text: str) -> tuple[np.ndarray, float]:
        try:
            result = merge_results([kokoro.synthesize(c, args.voice, 1.0) for c in g2p.phonemize(text)])
        except ValueError:  # nothing speakable in this chunk
            return np.zeros(0, np.float32), 0.0
        return result.audio, result.compute_s

    def theirs(text: str) -> tuple[np.ndarray, float]:
        t = time.perf_counter()
        audio, _ = reference.create(text, voice=args.voice, speed=1.0, lang="en-us")
        return np.asarray(audio, np.float32), time.perf_counter() - t

    split_count = {True: 0, False: 0}  # first chunks answered in two parts, by backend (windowed or not)

    def parts_of(backend: Any) -> Parts:
        def speak(text: str, first: bool) -> list[Any]:
            try:
                chunks = g2p.phonemize(text)
            except ValueError:  # nothing speakable in this chunk
                return []
            if not (first and len(chunks) == 1):
                return [merge_results([backend.synthesize(c, args.voice, 1.0) for c in chunks])]
            out = [backend.synthesize(replace(chunks[0], early_audio=True), args.voice, 1.0)]
            split_count[backend is windowed] += out[0].rest is not None
            while out[-1].rest is not None:
                out.append(backend.synthesize(out[-1].rest, args.voice, 1.0))
            return out
        return speak

    speakers: dict[str, Callable[[str], tuple[np.ndarray, float]]] = {
        "streamed": lambda text: streamed_audio(text, parts_of(kokoro)), "whole": ours, "kokoro-onnx": theirs,
    }
    if windowed is not None:
        speakers[WINDOWED] = lambda text: streamed_audio(text, parts_of(windowed))
    if args.systems:
        speakers = {name: speak for name, speak in speakers.items() if name in args.systems.split(",")}
    items = sentences(1 if args.quick else None)[: 2 if args.smoke else None]
    if args.quick:  # the first sentence of each category where text handling matters most
        items = [item for item in items if item[0] in QUICK_CATEGORIES]
    if "kokoro-onnx" in speakers:
        theirs(items[0][1])  # first-run allocation out of the way (ours warmed up at load)
    systems = tuple(speakers)
    heard_by: dict[str, list[str]] = {s: [] for s in systems}
    compute = dict.fromkeys(systems, 0.0)
    audio_s = dict.fromkeys(systems, 0.0)
    for category, text, refs in items:
        line = []
        for system in systems:
            audio, spent = speakers[system](text)
            compute[system] += spent
            audio_s[system] += audio.size / 24_000
            segments, _ = asr.transcribe(resample(audio, 24_000, 16_000), language="en", beam_size=5,
                                         condition_on_previous_text=False)
            heard = " ".join(s.text for s in segments).strip()
            heard_by[system].append(heard)
            e, _ = errors_against(refs, heard)
            line.append(f"{system} {e}")
            if e:
                print(f"  [{system}] {text!r}\n  {' ' * (len(system) + 2)} heard {heard!r}")
        print(f"{category:13s} {', '.join(line)}  {text[:60]!r}", flush=True)
    rtf = {s: compute[s] / audio_s[s] for s in systems if audio_s[s]}
    if windowed is not None:
        print(f"{WINDOWED}: first chunks in two windows in {split_count[True]} of {len(items)} sentences")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (RTF depends on it)")
    path = report(items, heard_by, rtf, args, argv)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
