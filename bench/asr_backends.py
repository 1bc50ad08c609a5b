"""The same Whisper model on each ASR backend: words and compute, CTranslate2 beside MLX.

Every clip is decoded once per backend as a final (beam ``asr.beam_size``, language given, the
adaptive encoder width), through the backend's own ``decode``: the same windows, prompts and rules,
so what differs is the engine. Prints WER against the reference, compute seconds per audio second,
the encoder's time for a full 30 s window and the decoder's time per token (greedy), per backend,
and MLX over CTranslate2 as ratios (run back to back in one process: compare ratios, not absolute
times, on a shared machine). On Linux x86 MLX runs on its CPU backend; Apple Silicon is its machine.

    python -m bench.asr_backends [--quick | --smoke] [--model whisper-base] [--backends ctranslate2 mlx]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import SPEECH_DIR, print_table, write_result
from bench.speech_sets import english_clips, load_clip

FOLDERS = ("vctk", "fleurs", "ljspeech")  # short read sentences: several speakers, one engine each time
MAX_CLIP_S = 12.0


def _clips(data: Path, per_folder: int) -> list[Any]:
    chosen = []
    for folder in FOLDERS:
        clips = [c for c in english_clips(data) if c.folder == folder and c.duration_s <= MAX_CLIP_S]
        chosen += clips[:per_folder]
    return chosen


def _engine_speed(backend: Any, audio: np.ndarray) -> tuple[float, float]:
    """(encoder seconds for a 30 s window, decoder seconds per token, greedy) of the backend's engine."""
    from streamvoice.asr.whisper_rules import FULL_FRAMES, prompt_tokens

    engine = backend._engine  # the WhisperEngine under the shared window decoder
    mel = engine.features(audio)
    engine.encode([mel], [mel.shape[-1]], FULL_FRAMES)  # warm up this width
    started = time.perf_counter()
    encoded = engine.encode([mel], [mel.shape[-1]], FULL_FRAMES)[0]
    encode_s = time.perf_counter() - started
    tok = engine.tokenizer("en", "transcribe")
    prompt, _ = prompt_tokens(tok, "", "")
    started = time.perf_counter()
    out = engine.generate(encoded, prompt, tok, 1, 0.0, 200)
    return encode_s, (time.perf_counter() - started) / (len(out.tokens) + 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 clip per folder")
    parser.add_argument("--smoke", action="store_true", help="1 clip (CI: does it still run?)")
    parser.add_argument("--model", default="whisper-base")
    parser.add_argument("--backends", nargs="+", default=["ctranslate2", "mlx"])
    parser.add_argument("--data", type=Path, default=SPEECH_DIR)
    args = parser.parse_args(argv)
    clips = _clips(args.data, 1 if args.quick or args.smoke else 2)[: 1 if args.smoke else None]

    from streamvoice.asr.backend import DecodeRequest
    from streamvoice.asr.loader import load_asr_backend
    from streamvoice.config import load_config
    from streamvoice.textnorm import word_errors

    audio = [load_clip(c) for c in clips]
    audio_s = sum(len(a) for a in audio) / 16000.0
    figures: dict[str, Any] = {}
    rows = []
    for name in args.backends:
        config = load_config(None, {"asr": {"model": args.model, "backend": name, "language": "en"}})
        backend = load_asr_backend(config)
        backend.decode(DecodeRequest(audio[0][:16000], 0.0, "", "en", "transcribe", True, "final"))  # warm up
        errors = words = 0
        compute = 0.0
        for clip, samples in zip(clips, audio, strict=True):
            started = time.perf_counter()
            result = backend.decode(DecodeRequest(samples, 0.0, "", "en", "transcribe", True, "final"))
            compute += time.perf_counter() - started
            e, n = word_errors(clip.reference, " ".join(s.text for s in result.segments))
            errors, words = errors + e, words + n
        encode_s, token_s = _engine_speed(backend, audio[0])
        figures[name] = {"wer": errors / max(words, 1), "compute_per_audio_s": compute / audio_s,
                         "encoder_30s_window_s": encode_s, "decoder_token_ms": token_s * 1000}
        rows.append([name, f"{100 * errors / max(words, 1):.2f} %", compute / audio_s, encode_s, token_s * 1000])
        del backend
    if "ctranslate2" in figures and "mlx" in figures:
        base, mlx = figures["ctranslate2"], figures["mlx"]
        figures["mlx_over_ctranslate2"] = {k: mlx[k] / base[k] for k in base if k != "wer" and base[k] > 0}
        rows.append(["mlx / ctranslate2", "", *(figures["mlx_over_ctranslate2"][k] for k in
                                                 ("compute_per_audio_s", "encoder_30s_window_s", "decoder_token_ms"))])
    write_result("asr_backends", figures, argv=argv, settings={
        "model": args.model, "clips": [c.name for c in clips], "audio_s": round(audio_s, 2), "language": "en",
        "decode": "final, beam from config, adaptive window", "speed": "encoder 30 s window; greedy decode per token"})
    print_table(f"ASR backends, {args.model}, {len(clips)} clips ({audio_s:.1f} s)", rows,
                ["backend", "WER", "compute s / audio s", "encoder 30 s window s", "decoder ms / token"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
