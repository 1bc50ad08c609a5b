"""Kokoro split at the vocoder, vocoded in growing overlapping windows, against the whole-chunk run.

Does streaming the vocoder pay? Each first chunk of 4-10 words is synthesized both ways in one
process with the same thread settings, interleaved (the order alternates every repetition), and
the ratios are taken per pair:

- ``first audio``: whole = the whole run; split = prosody part + the first window;
- ``total``: time to the last sample;
- ``gapless start``: the earliest moment playback can start and never run dry,
  max over pieces of (piece ready - audio before it). For the whole run it is its total.
  A first piece that leaves early but is followed by a gap would only move the wait.

Seams (deterministic: the split's harmonic phase is carried across windows, so the split can be
held against the whole-chunk audio): at every join, the largest sample step within the crossfade
against the whole audio's 99.9th percentile step; log band energies (40 bands, 12.5 ms hop) of
split vs whole in the frames within 50 ms of a join and elsewhere, as mean absolute dB; and for
scale the same distance for the whole chunk vocoded with random initial harmonic phases (what the
PyTorch Kokoro does on every run; the exported graph fixed it at zero). Words: whisper-base
(int8, beam 5) transcribes whole and split audio of development sentences; WER of each.

    python -m bench.tts_vocoder_split [--quick | --smoke] [--reps N] [--first 10] [--growth 2]
                                      [--context 8] [--crossfade-ms 10] [--wer-sentences N]

``--two-windows`` measures what the server does for a turn's first chunk instead
(``streamvoice.tts.first_window``): a head of at least ``--first`` frames, as long as its playback
must be to cover the remainder at ``--pace`` seconds per vocoded frame, ``--context`` frames after
it and ``--rest-context`` before the remainder, which is the second and last window.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from bench.common import print_table, summary_stats, write_result

FIRST_CHUNKS = [
    "Sure, I can help you with that right away.",
    "Good morning, how are you today?",
    "Let me check that for you.",
    "I found three flights to Boston tomorrow.",
    "Your order has shipped and arrives on Friday.",
    "Thanks for waiting, the report is ready now.",
    "Okay, here is what I found.",
    "The meeting moved to Thursday afternoon.",
]
RATE = 24_000
PROJECTED_RTF = (0.35, 0.5, 0.7, 1.0)
SEAM_COLUMNS = ("max_step_at_joins", "whole_max_step_there", "whole_p999_step", "flux_at_joins", "whole_flux_there",
                "db_near_joins", "db_elsewhere", "random_phase_db", "waveform_corr", "random_phase_waveform_corr")


def split_run(voc: Any, feeds: dict[str, np.ndarray], windows: list[Any], crossfade: int
              ) -> tuple[np.ndarray, list[float], list[int], list[float]]:
    """Pieces joined, each piece's ready time (s from start), its first sample index, and the
    process CPU seconds spent by then (less sensitive than wall time to other load on the cores)."""
    from streamvoice.tts.vocoder_windows import WindowStitcher

    t0, c0 = time.perf_counter(), time.process_time()
    prosody = voc.prosody(feeds)
    if prosody.frames != windows[-1].end:
        raise RuntimeError("window plan does not match the prosody's frame count")
    stitcher = WindowStitcher(crossfade)
    pieces, ready, starts, cpu, at = [], [], [], [], 0
    for k, window in enumerate(windows):
        piece = stitcher.push(window, voc.vocode(prosody, feeds["style"], window), last=k == len(windows) - 1)
        ready.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        starts.append(at)
        at += piece.size
        pieces.append(piece)
    return np.concatenate(pieces), ready, starts, cpu


def projected(cpu: list[float], whole_cpu: float, starts: list[int], audio_s: float, rtf: float) -> float:
    """Gapless start / whole time on a machine where the whole chunk takes ``rtf`` x its audio,
    assuming each stage's share of the time is its share of CPU seconds measured here."""
    whole = rtf * audio_s
    return max(c / whole_cpu * whole - s / RATE for c, s in zip(cpu, starts, strict=True)) / whole


def seam_figures(split: np.ndarray, whole: np.ndarray, joins: list[int], half: int) -> dict[str, float]:
    """Sample steps at the joins and band-energy distances near joins / elsewhere (dB)."""
    from bench.tts_graph import band_energies

    steps = np.abs(np.diff(whole))
    typical = float(np.percentile(steps, 99.9))
    at_joins = max((float(np.abs(np.diff(split[j - half - 1 : j + half + 1])).max()) for j in joins), default=0.0)
    whole_there = max((float(steps[j - half - 1 : j + half].max()) for j in joins), default=0.0)
    db = 10.0 / np.log(10.0)
    ea, eb = band_energies(split) * db, band_energies(whole) * db
    n = min(ea.shape[0], eb.shape[0])
    diff = np.abs(ea[:n] - eb[:n]).mean(axis=1)
    loud = eb[:n].max(axis=1) > eb[:n].max() - 50.0  # frames within 50 dB of the loudest
    hop_centres = np.arange(n) * 300 + 512
    near = np.zeros(n, bool)
    for j in joins:
        near |= np.abs(hop_centres - j) <= 0.05 * RATE
    centre = [int(np.argmin(np.abs(hop_centres - j))) for j in joins if 0 < np.argmin(np.abs(hop_centres - j)) < n - 1]
    flux_split = [float(np.abs(ea[i + 1] - ea[i - 1]).mean()) for i in centre]
    flux_whole = [float(np.abs(eb[i + 1] - eb[i - 1]).mean()) for i in centre]
    return {
        "flux_at_joins": float(np.mean(flux_split)) if centre else float("nan"),
        "whole_flux_there": float(np.mean(flux_whole)) if centre else float("nan"),
        "max_step_at_joins": at_joins, "whole_max_step_there": whole_there, "whole_p999_step": typical,
        "db_near_joins": float(diff[near & loud].mean()) if (near & loud).any() else float("nan"),
        "db_elsewhere": float(diff[~near & loud].mean()) if (~near & loud).any() else float("nan"),
        "waveform_corr": float(np.corrcoef(split, whole)[0, 1]),
    }


def window_figures(split: np.ndarray, whole: np.ndarray, shifted: np.ndarray, windows: list[Any]
                   ) -> list[dict[str, float]]:
    """Per window: band-energy distance to the whole audio (and the random-phase run's) and level change.

    The vocoder's AdaIN layers normalise over the window, not the chunk: this is where that shows.
    """
    from bench.tts_graph import band_energies

    db = 10.0 / np.log(10.0)
    ew, es, er = (band_energies(a) * db for a in (whole, split, shifted))
    n = min(ew.shape[0], es.shape[0], er.shape[0])
    loud = ew[:n].max(axis=1) > ew[:n].max() - 50.0
    centres = np.arange(n) * 300 + 512
    out = []
    for w in windows:
        own = loud & (centres >= w.start * 600) & (centres < w.end * 600)
        a, b = w.start * 600, w.end * 600
        level = 10.0 * np.log10((np.mean(split[a:b] ** 2) + 1e-12) / (np.mean(whole[a:b] ** 2) + 1e-12))
        out.append({
            "frames": float(w.end - w.start),
            "db": float(np.abs(es[:n] - ew[:n]).mean(axis=1)[own].mean()) if own.any() else float("nan"),
            "random_phase_db": float(np.abs(er[:n] - ew[:n]).mean(axis=1)[own].mean()) if own.any() else float("nan"),
            "level_db": float(level),
        })
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="4 first chunks, 2 repetitions, 8 WER sentences")
    size.add_argument("--smoke", action="store_true", help="1 chunk, 1 repetition, 1 WER sentence")
    parser.add_argument("--reps", type=int, default=0, help="timing repetitions per chunk (default 3)")
    parser.add_argument("--first", type=int, default=10, help="frames (25 ms) in the first window")
    parser.add_argument("--growth", type=float, default=2.0, help="each window this times the one before")
    parser.add_argument("--context", type=int, default=8, help="context frames each side of a window")
    parser.add_argument("--crossfade-ms", type=float, default=10.0)
    parser.add_argument("--wer-sentences", type=int, default=-1, help="development sentences for WER (default 24)")
    parser.add_argument("--two-windows", action="store_true", help="the first chunk's head + remainder (see above)")
    parser.add_argument("--rest-context", type=int, default=16, help="--two-windows: frames before the remainder")
    parser.add_argument("--pace", type=float, default=0.0125,
                        help="--two-windows: vocoder seconds per frame the head is sized for (0.0125: RTF 0.5)")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--voice", default="af_heart")
    args = parser.parse_args(argv)
    reps = args.reps or (1 if args.smoke else 2 if args.quick else 3)
    chunks_text = FIRST_CHUNKS[: 1 if args.smoke else 4 if args.quick else None]
    n_wer = args.wer_sentences if args.wer_sentences >= 0 else (1 if args.smoke else 8 if args.quick else 24)
    crossfade = round(args.crossfade_ms * RATE / 1000.0) // 2 * 2

    import onnx

    from streamvoice.config import load_config
    from streamvoice.models import require
    from streamvoice.tts.g2p import phonemizer_for_voice
    from streamvoice.tts.kokoro_onnx import find_model_file, load_kokoro, session_options
    from streamvoice.tts.vocoder_windows import FRAME_SAMPLES, Window, load_windowed_vocoder

    config = load_config(overrides={"tts": {"threads": args.threads, "voice": args.voice,
                                            "first_audio_window_ms": 0}})  # the whole graph, as reference
    model_dir = require(config.models.dir, "kokoro-82m")
    kokoro = load_kokoro(model_dir, config.tts)
    voc = load_windowed_vocoder(onnx.load(str(find_model_file(model_dir))), session_options(config.tts))
    g2p = phonemizer_for_voice(args.voice)

    def whole_run(feeds: dict[str, np.ndarray]) -> tuple[np.ndarray, float, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        audio = kokoro._session.run(None, feeds)[0]
        return np.asarray(audio, np.float32).reshape(-1), time.perf_counter() - t0, time.process_time() - c0

    def plan(feeds: dict[str, np.ndarray]) -> list[Window]:
        return windows_for(voc.prosody(feeds).frames, args)

    warm_feeds, _ = kokoro.model_feeds(g2p.phonemize(FIRST_CHUNKS[0])[0], args.voice)
    split_run(voc, warm_feeds, plan(warm_feeds), crossfade)  # first-run arena allocation out of the way

    rows, seams, timing = [], [], {k: [] for k in ("ttfa_ratio", "total_ratio", "gapless_ratio")}
    rng = np.random.default_rng(0)
    cpu_ratios: dict[str, list[float]] = {k: [] for k in ("first_cpu_ratio", "total_cpu_ratio")}
    cpu_ratios.update({f"gapless_ratio_at_rtf_{rtf}": [] for rtf in PROJECTED_RTF})
    for text in chunks_text:
        feeds, _ = kokoro.model_feeds(g2p.phonemize(text)[0], args.voice)
        windows = plan(feeds)
        t: dict[str, list[float]] = {k: [] for k in ("whole", "whole_cpu", "ttfa", "total", "gapless")}
        split_cpu: list[list[float]] = []
        for rep in range(reps):
            order = ("whole", "split") if rep % 2 == 0 else ("split", "whole")
            for arm in order:
                if arm == "whole":
                    whole, spent, whole_cpu = whole_run(feeds)
                    t["whole"].append(spent)
                    t["whole_cpu"].append(whole_cpu)
                else:
                    split, ready, starts, cpu = split_run(voc, feeds, windows, crossfade)
                    split_cpu.append(cpu)
                    t["ttfa"].append(ready[0])
                    t["total"].append(ready[-1])
                    t["gapless"].append(max(r - s / RATE for r, s in zip(ready, starts, strict=True)))
        med = {k: float(np.median(v)) for k, v in t.items()}
        for key, arm in (("ttfa_ratio", "ttfa"), ("total_ratio", "total"), ("gapless_ratio", "gapless")):
            timing[key] += [a / w for a, w in zip(t[arm], t["whole"], strict=True)]
        audio_s = whole.size / RATE
        for c, wc in zip(split_cpu, t["whole_cpu"], strict=True):
            cpu_ratios["first_cpu_ratio"].append(c[0] / wc)
            cpu_ratios["total_cpu_ratio"].append(c[-1] / wc)
            for rtf in PROJECTED_RTF:
                cpu_ratios[f"gapless_ratio_at_rtf_{rtf}"].append(projected(c, wc, starts, audio_s, rtf))
        rows.append([text[:44], len(text.split()), round(audio_s, 2), len(windows), med["whole"], med["ttfa"],
                     med["total"], med["gapless"]])
        joins = [w.end * FRAME_SAMPLES for w in windows[:-1]]
        seam = seam_figures(split, whole, joins, crossfade // 2)
        prosody = voc.prosody(feeds)
        full = Window(0, prosody.frames, 0, prosody.frames)
        shifted = voc._vocoder.run(None, {**_vocoder_feeds(prosody, feeds["style"], full),
                                          "phase_offset": rng.random((1, 1, 9)).astype(np.float32)})[0].reshape(-1)
        scale = seam_figures(shifted, whole, joins, crossfade // 2)
        seam["random_phase_db"] = scale["db_elsewhere"]
        seam["random_phase_waveform_corr"] = scale["waveform_corr"]
        seam["same_length"] = float(split.size == whole.size)
        seam["by_window"] = window_figures(split, whole, shifted, windows)
        seams.append(seam)
    print_table(f"First chunks: whole vs split (windows {args.first} frames x{args.growth}, context {args.context}, "
                f"crossfade {args.crossfade_ms} ms), medians of {reps}, seconds", rows,
                ["chunk", "words", "audio s", "windows", "whole", "split first", "split total", "split gapless"])
    ratios = {k: summary_stats(v) for k, v in timing.items()}
    print("\nsplit / whole, per pair (wall): " + ", ".join(f"{k} {v['p50']:.3f}" for k, v in ratios.items()))
    cpu_summary = {k: summary_stats(v) for k, v in cpu_ratios.items()}
    print("split / whole, per pair (process CPU s; gapless projected at a whole-chunk RTF): "
          + ", ".join(f"{k} {v['p50']:.3f}" for k, v in cpu_summary.items()))
    seam_rows = [[text[:30], *(round(s[k], 3) for k in SEAM_COLUMNS)]
                 for text, s in zip(chunks_text, seams, strict=True)]
    seam_rows.append(["median", *(round(float(np.nanmedian([s[k] for s in seams])), 3) for k in SEAM_COLUMNS)])
    print_table("Seams: split vs whole (steps in sample units; distances in mean |dB| over 40 bands)", seam_rows,
                ["chunk", "step@joins", "whole step there", "whole p99.9", "flux@joins", "whole flux there",
                 "dB near joins", "dB elsewhere", "dB random phase", "corr", "corr random phase"])
    per_window = [w for s in seams for w in s["by_window"] if np.isfinite(w["db"])]
    print(f"\nper window (loud frames): |dB| to whole median {np.median([w['db'] for w in per_window]):.2f} "
          f"(random phase {np.median([w['random_phase_db'] for w in per_window]):.2f}), "
          f"level change median |{np.median([abs(w['level_db']) for w in per_window]):.2f}| dB, "
          f"max |{max(abs(w['level_db']) for w in per_window):.2f}| dB over {len(per_window)} windows")
    wer = word_error_rates(kokoro, voc, g2p, args, n_wer, crossfade) if n_wer else {}
    load = os.getloadavg()[0]
    print(f"load average (1 min) at the end: {load:.1f} on {os.cpu_count()} cores")
    path = write_result(
        "tts_vocoder_split",
        {"chunks": rows, "ratios": ratios, "cpu_ratios": cpu_summary,
         "seams": dict(zip(chunks_text, seams, strict=True)), "wer": wer, "load_1min": load},
        settings={"reps": reps, "first": args.first, "growth": args.growth, "context": args.context,
                  "crossfade_ms": args.crossfade_ms, "threads": args.threads, "voice": args.voice,
                  "two_windows": args.two_windows, "rest_context": args.rest_context, "pace": args.pace},
        argv=argv, mode="smoke" if args.smoke else "quick" if args.quick else "full",
    )
    print(f"wrote {path}")
    return 0


def windows_for(frames: int, args: argparse.Namespace) -> list[Any]:
    """The window plan the arguments ask for (``--two-windows``: the server's first-chunk plan)."""
    from streamvoice.tts.first_window import plan_two_windows
    from streamvoice.tts.vocoder_windows import Window, plan_windows

    if not args.two_windows:
        return plan_windows(frames, args.first, args.growth, args.context)
    crossfade = round(args.crossfade_ms * RATE / 1000.0) // 2 * 2
    two = plan_two_windows(frames, args.first, args.pace, args.context, args.rest_context, crossfade)
    return list(two) if two is not None else [Window(0, frames, 0, frames)]


def _vocoder_feeds(prosody: Any, style: np.ndarray, window: Any) -> dict[str, np.ndarray]:
    from streamvoice.tts import vocoder_windows as vw

    lo, hi = window.lo, window.hi
    return {vw.ASR_FEATURES: prosody.features[:, :, lo:hi], vw.F0_CURVE: prosody.f0[:, 2 * lo : 2 * hi],
            vw.ENERGY_CURVE: prosody.energy[:, 2 * lo : 2 * hi], "style": style}


def word_error_rates(kokoro: Any, voc: Any, g2p: Any, args: argparse.Namespace, n: int, crossfade: int
                     ) -> dict[str, float]:
    """Round-trip WER of whole and split audio over the first ``n`` development sentences."""
    from faster_whisper import WhisperModel

    from bench.tts_roundtrip import errors_against, sentences
    from streamvoice.audio import resample
    from streamvoice.config import load_config
    from streamvoice.models import require
    asr = WhisperModel(str(require(load_config().models.dir, "whisper-base")), device="cpu", compute_type="int8",
                       cpu_threads=args.threads or 0)
    errors = {"whole": 0, "split": 0}
    words = 0
    for _, text, refs in sentences()[:n]:
        audio: dict[str, list[np.ndarray]] = {"whole": [], "split": []}
        for chunk in g2p.phonemize(text):
            feeds, _ = kokoro.model_feeds(chunk, args.voice)
            audio["whole"].append(np.asarray(kokoro._session.run(None, feeds)[0], np.float32).reshape(-1))
            windows = windows_for(voc.prosody(feeds).frames, args)
            audio["split"].append(split_run(voc, feeds, windows, crossfade)[0])
        line = []
        for arm, parts in audio.items():
            segments, _ = asr.transcribe(resample(np.concatenate(parts), RATE, 16_000), language="en", beam_size=5,
                                         condition_on_previous_text=False)
            heard = " ".join(s.text for s in segments).strip()
            e, count = errors_against(refs, heard)
            errors[arm] += e
            line.append(f"{arm} {e}")
            if arm == "whole":
                words += count
            if e:
                print(f"  [{arm}] heard {heard!r}")
        print(f"{', '.join(line)}  {text[:60]!r}", flush=True)
    out = {arm: errors[arm] / max(words, 1) for arm in errors}
    print(f"\nRound-trip WER over {n} sentences ({words} words): whole {out['whole']:.3%}, split {out['split']:.3%}")
    return out


if __name__ == "__main__":
    raise SystemExit(main())
