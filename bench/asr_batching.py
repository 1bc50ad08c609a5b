"""Does the engine's cross-session ASR batching pay on this machine?

N windows of real speech (as N sessions' due decodes would be) are decoded with the real
Whisper model two ways: one ``decode`` after another, and one ``decode_batch`` call (what the
engine's ASR worker does when several sessions' requests are queued). Prints wall times and
the ratio; > 1 means batching gains.

    python -m bench.asr_batching [--quick] [--model whisper-base] [--sizes 2 4 8]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from bench.common import print_table, write_result

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
CLIPS = ("LJ001-0001.wav", "LJ001-0003.wav", "LJ001-0004.wav", "LJ001-0005.wav")


def _windows(n: int, seconds: float) -> list[np.ndarray]:
    from streamvoice.audio.wavio import read_audio

    out = []
    for i in range(n):
        samples = np.asarray(read_audio(DATA / CLIPS[i % len(CLIPS)])[0], np.float32)
        out.append(samples[: int(seconds * 16000)])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="sizes 1 2 4, one repeat")
    parser.add_argument("--smoke", action="store_true", help="sizes 1 2, one repeat (CI: does it still run?)")
    parser.add_argument("--model", default="whisper-base")
    parser.add_argument("--seconds", type=float, default=4.0, help="window length per session")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    sizes, repeats = ([1, 2], 1) if args.smoke else ([1, 2, 4], 1) if args.quick else (args.sizes, args.repeats)

    from streamvoice.asr.backend import DecodeRequest
    from streamvoice.asr.loader import load_asr_backend
    from streamvoice.config import load_config

    config = load_config(None, {"asr": {"model": args.model, "language": "en"}})
    backend = load_asr_backend(config)
    windows = _windows(max(sizes), args.seconds)
    requests = [DecodeRequest(w, 0.0, "", "en", "transcribe", True, "partial", stream_id=f"s{i}")
                for i, w in enumerate(windows)]
    backend.decode(requests[0])  # warm up
    rows, figures = [], {}
    for n in sizes:
        batch = requests[:n]
        seq_t, bat_t = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for r in batch:
                backend.decode(r)
            seq_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            backend.decode_batch(list(batch))
            bat_t.append(time.perf_counter() - t0)
        s, b = min(seq_t), min(bat_t)
        figures[f"n{n}"] = {"sequential_s": s, "batched_s": b, "speedup": s / b}
        rows.append([n, s, b, s / b])
    write_result("asr_batching", figures, settings={"model": args.model, "seconds": args.seconds,
                                                      "sizes": sizes, "repeats": repeats}, argv=argv)
    print_table(f"ASR batching, {args.model}, {args.seconds:g} s windows", rows,
                ["sessions", "sequential s", "batched s", "speedup"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
