"""Kokoro's int8 graph vs a dequantized float copy: load time, synthesis time, audio likeness.

Both graphs are loaded in one process with the same thread settings. Each sentence is
phonemized once and synthesized by both graphs, interleaved (the order alternates every
repetition), so the shared cores' load hits both alike; times are compared as float/int8
ratios per pair. Wall time and process CPU time are both kept: CPU time is less sensitive to
other processes on the machine, wall time is what a user waits for.

Likeness: the float audio's length against int8's, the per-token durations, and the correlation
of log band energies (40 log-spaced bands, 12.5 ms hop) after stretching the shorter clip to
the longer; the same figure for a different voice (am_adam) saying the same sentence gives the
scale (same speaker and words ~ 0.9+, another speaker noticeably lower).

    python -m bench.tts_graph [--quick] [--threads N] [--reps N] [--voice af_heart]
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence

import numpy as np

from bench.common import print_table, summary_stats, timed, write_result

SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Sure, I can help you with that right away.",
    "Doctor Smith paid twenty dollars for the green umbrella.",
    "Honestly, I think the second option is better for your team, because it costs less and ships sooner.",
    "Good morning.",
    "Expect light rain on Saturday and sun on Sunday, with a high of seventy two degrees.",
]


def band_energies(audio: np.ndarray, n_fft: int = 1024, hop: int = 300, bands: int = 40) -> np.ndarray:
    """Log energy in log-spaced frequency bands per frame: a spectral envelope over time."""
    if audio.size < n_fft:
        audio = np.pad(audio, (0, n_fft - audio.size))
    frames = np.lib.stride_tricks.sliding_window_view(audio, n_fft)[::hop] * np.hanning(n_fft)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    edges = np.unique(np.geomspace(2, power.shape[1] - 1, bands + 1).astype(int))
    banded = np.stack([power[:, a:b].sum(axis=1) for a, b in itertools.pairwise(edges)], axis=1)
    return np.log(banded + 1e-8)


def envelope_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two clips' band energies, the shorter stretched to the longer."""
    ea, eb = band_energies(a), band_energies(b)
    if ea.shape[0] < eb.shape[0]:
        ea, eb = eb, ea
    positions = np.linspace(0, eb.shape[0] - 1, ea.shape[0])
    stretched = np.stack([np.interp(positions, np.arange(eb.shape[0]), eb[:, j]) for j in range(eb.shape[1])], 1)
    return float(np.corrcoef(ea.ravel(), stretched.ravel())[0, 1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 sentences, 2 repetitions")
    parser.add_argument("--smoke", action="store_true", help="1 sentence, 1 repetition (CI: does it still run?)")
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0 = cores)")
    parser.add_argument("--reps", type=int, default=0, help="repetitions per sentence and graph (default 4)")
    parser.add_argument("--voice", default="af_heart")
    args = parser.parse_args(argv)
    reps = args.reps or (1 if args.smoke else 2 if args.quick else 4)

    from streamvoice.config import load_config
    from streamvoice.models import require
    from streamvoice.tts.g2p import phonemizer_for_voice
    from streamvoice.tts.kokoro_onnx import KokoroOnnx, load_kokoro

    config = load_config(overrides={"tts": {"threads": args.threads, "voice": args.voice}})
    model_dir = require(config.models.dir, "kokoro-82m")
    graphs: dict[str, KokoroOnnx] = {}
    load_s: dict[str, float] = {}
    for kind in ("int8", "float"):  # load without warm-up to time the load alone, then warm up
        graphs[kind], load_s[kind], _ = timed(lambda k=kind: load_kokoro(model_dir, config.tts, False, graph=k))
    g2p = phonemizer_for_voice(args.voice)
    sentences = SENTENCES[:1] if args.smoke else SENTENCES[:3] if args.quick else SENTENCES
    chunks = [chunk for text in sentences for chunk in g2p.phonemize(text)]
    for kokoro in graphs.values():
        kokoro.synthesize(chunks[0], args.voice, 1.0)

    wall: dict[str, list[float]] = {"int8": [], "float": []}
    cpu: dict[str, list[float]] = {"int8": [], "float": []}
    wall_ratio: list[float] = []
    cpu_ratio: list[float] = []
    rows = []
    likeness: list[float] = []
    other_voice: list[float] = []
    length_ratio: list[float] = []
    for i, chunk in enumerate(chunks):
        audio: dict[str, np.ndarray] = {}
        per: dict[str, list[tuple[float, float]]] = {"int8": [], "float": []}
        for r in range(reps):
            order = ("int8", "float") if (i + r) % 2 == 0 else ("float", "int8")
            for kind in order:
                result, w, c = timed(lambda k=kind, c=chunk: graphs[k].synthesize(c, args.voice, 1.0))
                audio[kind] = result.audio
                per[kind].append((w, c))
                wall[kind].append(w)
                cpu[kind].append(c)
            wall_ratio.append(per["float"][-1][0] / per["int8"][-1][0])
            cpu_ratio.append(per["float"][-1][1] / per["int8"][-1][1])
        like = envelope_correlation(audio["int8"], audio["float"])
        other = envelope_correlation(audio["int8"], graphs["int8"].synthesize(chunk, "am_adam", 1.0).audio)
        likeness.append(like)
        other_voice.append(other)
        length_ratio.append(audio["float"].size / audio["int8"].size)
        med = {k: float(np.median([w for w, _ in v])) for k, v in per.items()}
        rows.append([chunk.text[:40], audio["int8"].size / 24_000, med["int8"], med["float"],
                     float(np.median(wall_ratio[-reps:])), float(np.median(cpu_ratio[-reps:])),
                     length_ratio[-1], like, other])
    print_table(f"int8 vs float Kokoro graph, {reps} interleaved repetitions (medians; ratios float/int8)", rows,
                ["sentence", "audio_s", "int8_s", "float_s", "wall_ratio", "cpu_ratio", "len_ratio", "env_corr",
                 "env_corr_other_voice"])
    figures = {
        "load_s": load_s,
        "wall_ratio_float_over_int8": summary_stats(wall_ratio),
        "cpu_ratio_float_over_int8": summary_stats(cpu_ratio),
        "wall_int8_s": summary_stats(wall["int8"]),
        "wall_float_s": summary_stats(wall["float"]),
        "length_ratio": summary_stats(length_ratio),
        "envelope_corr_float_vs_int8": summary_stats(likeness),
        "envelope_corr_other_voice": summary_stats(other_voice),
    }
    print(f"\nload (no warm-up): int8 {load_s['int8']:.2f} s, float {load_s['float']:.2f} s")
    print(f"float/int8 wall ratio p50 {figures['wall_ratio_float_over_int8']['p50']:.3f}, "
          f"cpu ratio p50 {figures['cpu_ratio_float_over_int8']['p50']:.3f} over {len(wall_ratio)} pairs")
    print(f"envelope correlation float vs int8: min {min(likeness):.3f}; other voice: max {max(other_voice):.3f}")
    path = write_result("tts_graph", figures, settings={"quick": args.quick, "threads": args.threads,
                        "reps": reps, "voice": args.voice}, argv=argv,
                        samples={"wall_ratio": wall_ratio, "cpu_ratio": cpu_ratio, **{f"wall_{k}": v
                                 for k, v in wall.items()}})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
