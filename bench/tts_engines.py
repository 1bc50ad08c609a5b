"""Kokoro's real-time factor on each TTS engine: ONNX Runtime (int8 graph) against MLX, one process.

Both backends are loaded with the same thread count and warmed up; each sentence is phonemized
once and synthesized by both, the order alternating per sentence so the shared cores' load hits
both alike. RTF = synthesis seconds / audio seconds (below 1 is faster than real time); wall and
process CPU time are both kept. The per-token durations of the two engines are compared too (the
MLX weights are the floats the int8 graph approximates: at most one 25 ms frame apart).

    python -m bench.tts_engines [--quick | --smoke] [--threads N] [--voice af_heart]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import numpy as np

from bench.common import print_table, summary_stats, timed, write_result

SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Sure, I can help you with that right away.",
    "Doctor Smith paid twenty dollars for the green umbrella.",
    "Expect light rain on Saturday and sun on Sunday, with a high of seventy two degrees.",
]
ENGINES = ("onnxruntime", "mlx")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 sentences")
    parser.add_argument("--smoke", action="store_true", help="1 sentence (CI: does it still run?)")
    parser.add_argument("--threads", type=int, default=0, help="threads for both engines (0 = cores)")
    parser.add_argument("--voice", default="af_heart")
    args = parser.parse_args(argv)

    from streamvoice.config import load_config
    from streamvoice.models import require
    from streamvoice.tts.g2p import phonemizer_for_voice
    from streamvoice.tts.kokoro_onnx import load_kokoro
    from streamvoice.tts.mlx_backend import load_kokoro_mlx  # first: it binds OpenBLAS before mlx loads

    config = load_config(overrides={"tts": {"threads": args.threads, "voice": args.voice,
                                            "first_audio_window_ms": 0}})
    model_dir = require(config.models.dir, "kokoro-82m")
    engines: dict[str, Any] = {}
    load_s: dict[str, float] = {}
    engines["mlx"], load_s["mlx"], _ = timed(lambda: load_kokoro_mlx(model_dir, config.tts))
    engines["onnxruntime"], load_s["onnxruntime"], _ = timed(lambda: load_kokoro(model_dir, config.tts))
    g2p = phonemizer_for_voice(args.voice)
    texts = SENTENCES[:1] if args.smoke else SENTENCES[:2] if args.quick else SENTENCES
    chunks = [chunk for text in texts for chunk in g2p.phonemize(text)]

    wall: dict[str, list[float]] = {e: [] for e in ENGINES}
    cpu: dict[str, list[float]] = {e: [] for e in ENGINES}
    audio_s: dict[str, list[float]] = {e: [] for e in ENGINES}
    ratio: list[float] = []
    duration_gap: list[int] = []
    rows = []
    for i, chunk in enumerate(chunks):
        for name in ENGINES if i % 2 == 0 else ENGINES[::-1]:
            result, w, c = timed(lambda n=name, ch=chunk: engines[n].synthesize(ch, args.voice, 1.0))
            wall[name].append(w)
            cpu[name].append(c)
            audio_s[name].append(result.audio.size / result.sample_rate)
        rtf = {e: wall[e][-1] / audio_s[e][-1] for e in ENGINES}
        ratio.append(rtf["mlx"] / rtf["onnxruntime"])
        reference = np.maximum(engines["onnxruntime"].durations(chunk, args.voice), 1)
        duration_gap.append(int(np.abs(engines["mlx"].durations(chunk, args.voice) - reference).max()))
        rows.append([chunk.text[:40], audio_s["onnxruntime"][-1], rtf["onnxruntime"], rtf["mlx"], ratio[-1],
                     duration_gap[-1]])
    print_table("Kokoro real-time factor per engine (synthesis s / audio s; ratio mlx/onnx)", rows,
                ["sentence", "audio_s", "rtf_onnx", "rtf_mlx", "ratio", "max_dur_gap_frames"])
    rtf_total = {e: sum(wall[e]) / sum(audio_s[e]) for e in ENGINES}
    cpu_rtf = {e: sum(cpu[e]) / sum(audio_s[e]) for e in ENGINES}
    figures = {
        "rtf": rtf_total,
        "cpu_rtf": cpu_rtf,
        "ratio_mlx_over_onnx": summary_stats(ratio),
        "load_s": load_s,
        "max_duration_gap_frames": max(duration_gap),
    }
    print(f"\nRTF over {sum(audio_s['onnxruntime']):.1f} s of audio: onnxruntime {rtf_total['onnxruntime']:.2f}, "
          f"mlx {rtf_total['mlx']:.2f} (CPU-time RTF {cpu_rtf['onnxruntime']:.2f} / {cpu_rtf['mlx']:.2f}); "
          f"per-sentence ratio mlx/onnx p50 {figures['ratio_mlx_over_onnx']['p50']:.2f}")
    print(f"load with warm-up: onnxruntime {load_s['onnxruntime']:.1f} s, mlx {load_s['mlx']:.1f} s; "
          f"largest per-token duration gap {max(duration_gap)} frame(s)")
    path = write_result("tts_engines", figures, settings={"threads": args.threads, "voice": args.voice,
                        "sentences": len(chunks), "onnx_graph": "int8", "mlx_dtype": "float32"}, argv=argv,
                        samples={f"wall_{e}": wall[e] for e in ENGINES})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
