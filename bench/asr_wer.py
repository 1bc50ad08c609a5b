"""Streaming WER (``--speed 0`` semantics) vs offline faster-whisper on all the English dev speech.

Clips: every English ``exact`` clip of ``../shared/data/speech`` (per folder: one clean reader,
many accents, studio accents, earnings calls, a long reading, repeated words), plus stress
streams built from the accented clips (different speakers joined with 0.05-0.15 s gaps, minutes
without a pause). Both arms start from the defaults a new user gets (language ``auto``):

- offline: faster-whisper ``transcribe`` on the whole clip, beam 5, its own defaults otherwise
  (language detection on the first 30 s, temperature fallback, previous-text conditioning);
- stream: our ``RecognizerStream`` fed 20 ms chunks with instant compute (``--speed 0``).

WER is corpus-level per folder (errors / reference words, both sides through
``streamvoice.textnorm.normalize``). Repeated-word clips are scored by how many times the
repeated word is kept. Also counted: words in a non-Latin script, finals not in English, and
clips where streaming doubles a phrase that neither the reference nor offline doubles. Offline
hypotheses are cached (``~/.cache/streamvoice/bench``) because they never change with our code.

    python -m bench.asr_wer [--quick | --smoke] [--folders a,b] [--no-stress] [--full-window]
                            [--partial-model whisper-tiny.en]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import SPEECH_DIR, print_table, results_dir, run_mode, write_result
from bench.speech_sets import (
    REPEATED_FOLDER,
    Clip,
    english_clips,
    extra_doubles,
    foreign_script_words,
    load_clip,
    repeated_word_count,
    stress_streams,
)

CACHE_DIR = Path.home() / ".cache" / "streamvoice" / "bench"


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.asr_wer", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="two short clips of each folder, no stress stream")
    parser.add_argument("--smoke", action="store_true", help="the shortest clip only (CI: does it still run?)")
    parser.add_argument("--data", type=Path, default=SPEECH_DIR, help="folder with manifest.tsv")
    parser.add_argument("--model", default="whisper-base")
    parser.add_argument("--partial-model", default="",
                        help="partials on this smaller model (asr.partial_model); writes asr_wer_two_model")
    parser.add_argument("--folders", default="", help="only these folders (comma-separated; 'stress' for the streams)")
    parser.add_argument("--no-stress", action="store_true", help="skip the joined multi-speaker streams")
    parser.add_argument("--full-window", action="store_true", help="also stream with the 30 s encoder window")
    parser.add_argument("--no-cache", action="store_true", help="re-run offline decoding even if cached")
    return parser.parse_args(argv)


def _select(args: argparse.Namespace) -> list[Clip]:
    clips = english_clips(args.data)
    if args.smoke:
        return sorted(clips, key=lambda c: c.duration_s)[:1]
    accented = [c for c in clips if c.folder in ("commonvoice_accents", "vctk")]
    streams = [] if args.no_stress else stress_streams(accented)
    if args.quick:  # two short clips of each folder, no stress stream: about a minute of audio
        by_folder: dict[str, list[Clip]] = defaultdict(list)
        for clip in clips:
            if len(by_folder[clip.folder]) < 2 and clip.duration_s < 15:
                by_folder[clip.folder].append(clip)
        clips = [c for group in by_folder.values() for c in group]
        streams = []
    chosen = clips + streams
    if args.folders:
        wanted = set(args.folders.split(","))
        chosen = [c for c in chosen if c.folder in wanted]
    return chosen


class _OfflineCache:
    """Offline hypotheses by clip and settings: they depend on faster-whisper alone."""

    def __init__(self, model: str, enabled: bool) -> None:
        self.path = CACHE_DIR / f"offline-{model}-beam5.json"
        self.enabled = enabled
        self.data: dict[str, str] = json.loads(self.path.read_text()) if enabled and self.path.exists() else {}

    def key(self, clip: Clip) -> str:
        return f"{clip.name}|{clip.duration_s:.3f}"

    def save(self) -> None:
        if self.enabled:
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.data, indent=0, ensure_ascii=False))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    from streamvoice.asr.driver import chunked, run_stream
    from streamvoice.asr.events import Final
    from streamvoice.asr.loader import load_asr_backend
    from streamvoice.asr.options import StreamOptions
    from streamvoice.asr.stream import RecognizerStream
    from streamvoice.asr.two_model import TwoModelBackend
    from streamvoice.config import load_config
    from streamvoice.textnorm import normalize, word_errors

    clips = _select(args)
    config = load_config(overrides={"asr": {"model": args.model}})
    backend: Any = load_asr_backend(config)
    options = StreamOptions.from_config(config.asr, multilingual=backend.multilingual)
    fw_model = backend._fw  # the same loaded weights, through faster-whisper's offline path
    streamer: Any = backend  # what the stream arms decode with
    if args.partial_model:
        streamer = TwoModelBackend(backend, load_asr_backend(config, args.partial_model))
    cache = _OfflineCache(args.model, enabled=not args.no_cache and not args.smoke)
    arms = ["offline", "stream"] + (["stream_full"] if args.full_window else [])

    errors: dict[tuple[str, str], int] = defaultdict(int)
    ref_words: dict[str, int] = defaultdict(int)
    compute = dict.fromkeys(arms, 0.0)
    audio_s = 0.0
    foreign: dict[str, int] = defaultdict(int)
    non_en_finals = 0
    doubled: list[str] = []
    repeats: list[list[Any]] = []
    details: list[str] = []
    for clip in clips:
        samples = load_clip(clip)
        audio_s += clip.duration_s
        hyps: dict[str, str] = {}
        key = cache.key(clip)
        t = time.perf_counter()
        if key in cache.data:
            hyps["offline"] = cache.data[key]
        else:
            segments, _ = fw_model.transcribe(samples, beam_size=5, vad_filter=False)
            hyps["offline"] = cache.data[key] = " ".join(s.text.strip() for s in segments)
        compute["offline"] += time.perf_counter() - t
        for arm in arms[1:]:
            backend.adaptive_window = arm == "stream"
            t = time.perf_counter()
            stream = RecognizerStream(options)
            finals = [e for e, _, _ in run_stream(stream, streamer, chunked(samples), realtime=False)
                      if isinstance(e, Final)]
            compute[arm] += time.perf_counter() - t
            hyps[arm] = " ".join(e.text for e in finals if e.text)
            if arm == "stream":
                non_en_finals += sum(1 for e in finals if e.text and e.language != "en")
        backend.adaptive_window = True
        ref = normalize(clip.reference).split()
        for arm in arms:
            foreign[arm] += foreign_script_words(hyps[arm])
        if clip.folder == REPEATED_FOLDER:
            word, times, _ = repeated_word_count(ref, ref)
            counts = [repeated_word_count(ref, normalize(hyps[a]).split())[2] for a in arms]
            repeats.append([clip.name, word, times, *counts])
        else:
            ref_words[clip.folder] += len(ref)
            for arm in arms:
                errors[(clip.folder, arm)] += word_errors(clip.reference, hyps[arm])[0]
            extra = extra_doubles(normalize(hyps["stream"]).split(), ref, normalize(hyps["offline"]).split())
            doubled.extend(f"{clip.name}: {p}" for p in extra)
        details.append("\t".join([clip.name, clip.reference, *(hyps[a] for a in arms)]))
        print(f"{clip.name}: " + " | ".join(f"{a}: {hyps[a]}" for a in arms[:2]), flush=True)
        cache.save()

    folders = sorted(ref_words)
    rows = []
    for folder in folders:
        w = max(1, ref_words[folder])
        wers = [errors[(folder, a)] / w for a in arms]
        ratio = wers[1] / wers[0] if wers[0] else None
        rows.append([folder, ref_words[folder], *(f"{x:.2%}" for x in wers), ratio])
    scored = [f for f in folders if f != "stress"]
    total_words = sum(ref_words[f] for f in scored)
    total = {a: sum(errors[(f, a)] for f in scored) / max(1, total_words) for a in arms}
    total_ratio = total["stream"] / total["offline"] if total["offline"] else None
    rows.append(["ALL clips (not stress)", total_words, *(f"{total[a]:.2%}" for a in arms), total_ratio])
    print_table(f"WER per folder: {len(clips)} clips and streams, {audio_s:.0f} s, model {args.model}",
                rows, ["folder", "ref words", *arms, "stream/offline"])
    if repeats:
        print_table("Repeated-word clips: times the repeated word is kept", repeats,
                    ["clip", "word", "reference", *arms])
    print(f"\nforeign-script words: {dict(foreign)}; stream finals not in English: {non_en_finals}")
    print(f"phrases doubled by streaming but not by reference or offline: {len(doubled)}")
    for line in doubled:
        print(f"  {line}")

    figures: dict[str, Any] = {f"wer_{a}": round(total[a], 4) for a in arms}
    figures["ratio_stream_vs_offline"] = round(total_ratio, 3) if total_ratio else None
    for folder in folders:
        for a in arms:
            figures[f"wer_{a}.{folder}"] = round(errors[(folder, a)] / max(1, ref_words[folder]), 4)
        figures[f"words.{folder}"] = ref_words[folder]
    figures.update({f"compute_s_per_audio_s_{a}": round(compute[a] / audio_s, 3) for a in arms[1:]})
    figures.update({f"foreign_script_words_{a}": foreign[a] for a in arms})
    figures["stream_finals_not_english"] = non_en_finals
    figures["doubled_phrases_stream_only"] = len(doubled)
    for name, word, times, *counts in repeats:
        kept = dict(zip(arms, counts, strict=True))
        figures[f"repeats.{Path(name).stem}"] = {"word": word, "reference": times, **kept}
    figures.update({"clips": len(clips), "reference_words": total_words, "audio_s": round(audio_s, 1)})
    settings = {"model": args.model, "offline_beam_size": 5, "stream_beam_size": config.asr.beam_size,
                "language": options.language, "commit_margin_ms": options.commit_margin_ms,
                "partial_interval_ms": options.partial_interval_ms, "window_s": options.window_s,
                "vad_aggressiveness": options.vad_aggressiveness, "partial_model": args.partial_model or None}
    mode = "quick" if args.folders and run_mode(argv) == "full" else run_mode(argv)  # a subset is no full run
    name = "asr_wer_two_model" if args.partial_model else "asr_wer"  # never over the one-model reference
    print(f"wrote {write_result(name, figures, settings=settings, argv=argv, mode=mode, module='asr_wer')}")
    folder_out = results_dir(mode)
    (folder_out / f"{name}_clips.tsv").write_text(
        "\t".join(["clip", "reference", *arms]) + "\n" + "\n".join(details) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
