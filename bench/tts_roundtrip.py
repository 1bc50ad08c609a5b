"""Round-trip intelligibility: reference texts -> Kokoro (af_heart) -> whisper-base -> WER.

Uses the first 20 English clips with exact references in ../shared/data/speech/manifest.tsv
(their texts only). Transcription is offline with faster-whisper on the installed whisper-base;
both sides go through streamvoice.textnorm's normaliser.

    python -m bench.tts_roundtrip [--quick] [--voice af_heart] [--threads N]
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Sequence

from bench.common import SPEECH_DIR, print_table, write_result


def english_references(limit: int) -> list[tuple[str, str]]:
    with (SPEECH_DIR / "manifest.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    picked = [(r["file"], r["reference_text"]) for r in rows
              if r["language"] == "en" and r["reference_quality"] == "exact" and r["reference_text"].strip()]
    return picked[:limit]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 texts instead of 20")
    parser.add_argument("--smoke", action="store_true", help="1 text (CI: does it still run?)")
    parser.add_argument("--voice", default="af_heart")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)

    from faster_whisper import WhisperModel

    from streamvoice.audio import resample
    from streamvoice.config import load_config
    from streamvoice.models import require
    from streamvoice.textnorm import word_errors
    from streamvoice.tts.g2p import phonemizer_for_voice
    from streamvoice.tts.kokoro_onnx import load_kokoro
    from streamvoice.tts.turn import merge_results

    config = load_config(overrides={"tts": {"threads": args.threads, "voice": args.voice}})
    kokoro = load_kokoro(require(config.models.dir, "kokoro-82m"), config.tts)
    g2p = phonemizer_for_voice(args.voice)
    asr = WhisperModel(str(require(config.models.dir, "whisper-base")), device="cpu", compute_type="int8",
                       cpu_threads=args.threads or 0)
    items = english_references(1 if args.smoke else 5 if args.quick else 20)
    rows = []
    errors = words = 0
    compute = audio_s = 0.0
    for name, text in items:
        result = merge_results([kokoro.synthesize(c, args.voice, 1.0) for c in g2p.phonemize(text)])
        compute += result.compute_s
        audio_s += result.audio.size / result.sample_rate
        t = time.perf_counter()
        segments, _ = asr.transcribe(resample(result.audio, result.sample_rate, 16_000), language="en",
                                     beam_size=1, condition_on_previous_text=False)
        heard = " ".join(s.text for s in segments).strip()
        e, n = word_errors(text, heard)
        errors += e
        words += n
        rows.append([name.split("/")[-1], n, e, e / n if n else 0.0, time.perf_counter() - t])
        if e:
            print(f"  {name}: ref {text!r}\n  {' ' * len(name)}  hyp {heard!r}")
    wer = errors / words if words else 0.0
    print_table(f"Round trip {args.voice} -> whisper-base", rows, ["clip", "words", "errors", "wer", "asr_s"])
    print(f"\nWER {wer:.2%} over {words} words in {len(items)} texts; Kokoro RTF {compute / audio_s:.3f}")
    path = write_result("tts_roundtrip", {"wer": wer, "errors": errors, "words": words, "texts": len(items),
                                          "rtf": compute / audio_s},
                        settings={"quick": args.quick, "voice": args.voice, "threads": args.threads}, argv=argv)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
