"""Time to first audio for LLM-style streamed replies: sentence-incremental vs whole-sentence.

Each two-sentence reply is fed word by word at 15 words/s (an LLM's pace). "streamed" cuts the
first chunk early (clause or a few words); "baseline" waits for each whole sentence, as
kokoro-onnx users do. Both run in the same process, interleaved, on the same model. TTFA is
measured from the first word's arrival to the first audio frame. Also: real-time factor, and
the stop time of a cancel issued while the next chunk is being synthesized.

    python -m bench.tts_ttfa [--quick] [--threads N] [--voice af_heart]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator, Sequence

from bench.common import print_table, summary_stats, write_result

REPLIES = [
    "Sure, I can help you with that right away. The report is due on Friday at noon.",
    "Well, the short answer is yes, but it depends on the budget. Let me check the numbers for you.",
    "Honestly, I think the second option is better for your team. It costs less and ships two weeks sooner.",
    "Good morning, and thanks for calling the support line today. Your order shipped yesterday afternoon.",
    "To be clear, the meeting moved from Tuesday to Thursday. Dr. Patel will join at 10:30 as planned.",
    "First, open the settings page and choose the network tab. Then restart the router and try again.",
    "That is a great question about the weather this weekend. Expect light rain on Saturday and sun on Sunday.",
    "In short, the new model is faster and uses less memory. We measured about 3.5 times the throughput.",
]


def words_at(text: str, rate: float) -> Iterator[str]:
    for word in text.split(" "):
        time.sleep(1.0 / rate)
        yield word + " "


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 replies instead of 8")
    parser.add_argument("--smoke", action="store_true", help="1 reply (CI: does it still run?)")
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0 = cores)")
    parser.add_argument("--voice", default="af_heart")
    parser.add_argument("--rate", type=float, default=15.0, help="words per second")
    args = parser.parse_args(argv)

    from streamvoice.config import load_config
    from streamvoice.models import require
    from streamvoice.tts.driver import SpeechDriver
    from streamvoice.tts.g2p import phonemizer_for_voice
    from streamvoice.tts.kokoro_onnx import load_kokoro

    config = load_config(overrides={"tts": {"threads": args.threads, "voice": args.voice}})
    kokoro = load_kokoro(require(config.models.dir, "kokoro-82m"), config.tts)
    g2p = phonemizer_for_voice(args.voice)
    replies = REPLIES[:1] if args.smoke else REPLIES[:3] if args.quick else REPLIES
    drivers = {
        "streamed": SpeechDriver(kokoro, g2p, args.voice, early_first_chunk=True),
        "baseline": SpeechDriver(kokoro, g2p, args.voice, early_first_chunk=False),
    }
    ttfa: dict[str, list[float]] = {name: [] for name in drivers}
    compute = audio = 0.0
    first_chunks: dict[str, list[str]] = {name: [] for name in drivers}
    for i, reply in enumerate(replies):
        order = list(drivers) if i % 2 == 0 else list(reversed(drivers))  # no position bias
        for name in order:
            driver = drivers[name]
            for _ in driver.speak(words_at(reply, args.rate)):
                pass
            s = driver.stats
            assert s.ttfa_s is not None and s.first_text_s is not None
            ttfa[name].append(s.ttfa_s - s.first_text_s)
            first_chunks[name].append(s.chunk_texts[0])
            compute += s.compute_s
            audio += s.audio_s
            print(f"  {name:9s} reply {i + 1}: ttfa {ttfa[name][-1]:.3f} s  first chunk {s.chunk_texts[0]!r}")

    stops: list[float] = []
    cancel_driver = drivers["baseline"]
    for reply in replies[:3]:
        for batch in cancel_driver.speak(words_at(reply, 1000.0)):
            if batch.frames:
                cancel_driver.cancel()  # the second sentence is in synthesis now
        if cancel_driver.stats.stop_s is not None:
            stops.append(cancel_driver.stats.stop_s)

    figures = {
        "ttfa_streamed_s": summary_stats(ttfa["streamed"]),
        "ttfa_baseline_s": summary_stats(ttfa["baseline"]),
        "rtf": compute / audio if audio else None,
        "audio_s_total": audio,
        "cancel_stop_s": summary_stats(stops),
    }
    rows = [
        [name, figures[f"ttfa_{name}_s"]["p50"], figures[f"ttfa_{name}_s"]["p95"], len(ttfa[name])]
        for name in ("streamed", "baseline")
    ]
    print_table(f"TTFA, two-sentence replies at {args.rate:g} words/s (seconds from first word)", rows,
                ["mode", "p50", "p95", "n"])
    print(f"\nRTF (model s per audio s): {figures['rtf']:.3f}   threads={args.threads or 'cores'}")
    print(f"cancel stop time p50 {figures['cancel_stop_s']['p50']}, max of {len(stops)}: {max(stops, default=0):.4f} s")
    path = write_result("tts_ttfa", figures, settings={"quick": args.quick, "threads": args.threads,
                        "voice": args.voice, "rate_wps": args.rate}, argv=argv, samples=ttfa)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
