"""Time to first audio through the real server, text streamed as an LLM writes it, from a fresh start.

For each rate (15 and 50 words/s) a fresh ``streamvoice serve`` process starts (real models); as
soon as it prints that it listens and ``/readyz`` says 200, two-sentence replies are streamed to
it word by word over a WebSocket. TTFA is from the first word sent to the first ``tts_audio``
received, and the first reply after the start counts like any other (it is reported on its own
too). Beside it, in the same run and interleaved with it: kokoro-onnx 0.6.1, sentence at a time,
on the same model file and voice (``bench/tts_reference.py``): its first audio is ready when the
first sentence's last word has arrived plus ``create()`` of that sentence. Also: the server's time
from start to ready, and in process the stop time of a cancel issued while a chunk is synthesized.

    python -m bench.tts_ttfa [--quick | --smoke] [--rates 15,50] [--voice af_heart] [--threads N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

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


# -- the server ------------------------------------------------------------------------------------

class ServerProcess:
    """``python -m streamvoice serve --port 0`` in a child process; ``url`` once it is ready."""

    def __init__(self, voice: str, threads: int, first_window_ms: int | None = None) -> None:
        env = dict(os.environ, STREAMVOICE_TTS__VOICE=voice, STREAMVOICE_TTS__THREADS=str(threads),
                   STREAMVOICE_LOG_LEVEL="WARNING")
        if first_window_ms is not None:
            env["STREAMVOICE_TTS__FIRST_AUDIO_WINDOW_MS"] = str(first_window_ms)
        self.started = time.perf_counter()
        self.end_rss_mib: float | None = None
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamvoice", "serve", "--port", "0", "--asr-model", "whisper-tiny.en"],
            stderr=subprocess.PIPE, text=True, env=env,
        )
        self.port = self._wait_listening()
        self.ready_s = self._wait_ready()
        self.ready_rss_mib = self.rss_mib()
        self.url = f"ws://127.0.0.1:{self.port}/v1/stream"

    def rss_mib(self) -> float | None:
        """The server's resident memory now (Linux), MiB."""
        try:
            with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as status:
                kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        except (OSError, StopIteration, ValueError):
            return None
        return kib / 1024

    def _wait_listening(self) -> int:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            m = re.search(r"listening on http://[^:]+:(\d+)", line)
            if m:
                return int(m.group(1))
        raise RuntimeError(f"server exited with {self.proc.wait()} before listening")

    def _wait_ready(self) -> float:
        deadline = time.perf_counter() + 300
        while time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=5) as r:
                    if r.status == 200:
                        return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server never became ready")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass(frozen=True, slots=True)
class Reply:
    """One streamed reply as the client saw it."""

    ttfa_s: float  # first tts_audio, from the first word sent
    heard_s: float | None  # first sound played (see first_sound_s), from the first word sent
    audio_s: float
    first_chunk_margin_s: float | None  # None: the first chunk came in one burst
    margin_s: float | None  # over the whole reply; None: one burst


def playback_margins(arrivals: list[tuple[float, float, bool]], burst_gap_s: float = 0.015
                     ) -> tuple[float | None, float | None]:
    """(first chunk's, whole reply's) smallest margin over bursts after the first.

    ``arrivals``: (arrival s, audio s, starts a chunk) per frame in order; a burst's margin is the
    audio before it minus its arrival after the first frame (playback starts at the first frame).
    """
    if not arrivals:
        return None, None
    t0 = arrivals[0][0]
    played, previous = 0.0, t0
    first_chunk: list[float] = []
    reply: list[float] = []
    in_first = True
    for i, (at, seconds, starts_chunk) in enumerate(arrivals):
        if i and starts_chunk:
            in_first = False
        if i and at - previous > burst_gap_s:
            margin = played - (at - t0)
            reply.append(margin)
            if in_first:
                first_chunk.append(margin)
        played += seconds
        previous = at
    return min(first_chunk, default=None), min(reply, default=None)


SOUND_LEVEL = 0.01  # |sample| above this (-40 dBFS) is sound, not the silence a chunk starts with


def first_sound_s(frames: list[tuple[float, np.ndarray, int]]) -> float | None:
    """When a player that starts at the first frame's arrival (and stalls while the next frame has
    not come) plays the first sample above ``SOUND_LEVEL``; ``frames``: (arrival, samples, rate).

    Why beside TTFA: a first frame of silence is not first audio to a listener (Kokoro starts each
    chunk with ~0.3 s of it, which framing now drops)."""
    clock: float | None = None
    for at, samples, rate in frames:
        clock = at if clock is None else max(clock, at)
        loud = np.flatnonzero(np.abs(samples) > SOUND_LEVEL)
        if loud.size:
            return clock + loud[0] / rate
        clock += samples.size / rate
    return None


async def server_ttfa(url: str, reply: str, rate: float) -> Reply:
    """First audio after the first word was sent, audio length and playback margins of one reply."""
    from streamvoice.client import connect
    from streamvoice.protocol import TtsAudio, TtsDone

    sent_at: list[float] = []

    async def words() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        parts = reply.split(" ")
        t0 = loop.time()
        for i, word in enumerate(parts):
            await asyncio.sleep(max(0.0, t0 + i / rate - loop.time()))
            if not sent_at:
                sent_at.append(time.perf_counter())
            yield word + (" " if i < len(parts) - 1 else "")

    arrivals: list[tuple[float, float, bool]] = []
    heads: list[tuple[float, np.ndarray, int]] = []  # frames until the first sound
    async with connect(url, credits="instant") as s:
        sender = asyncio.create_task(s.say_stream(words()))
        async with asyncio.timeout(120):
            while not isinstance(m := await s.recv(), TtsDone):
                if isinstance(m, TtsAudio):
                    at = time.perf_counter()
                    arrivals.append((at, len(m.data) / 2 / m.sample_rate, bool(m.text)))
                    if len(heads) < 200:
                        heads.append((at, np.frombuffer(m.data, "<i2").astype(np.float32) / 32768, m.sample_rate))
        await sender
    assert arrivals and sent_at, "no audio came back"
    first_chunk, whole = playback_margins(arrivals)
    sound = first_sound_s(heads)
    return Reply(arrivals[0][0] - sent_at[0], None if sound is None else sound - sent_at[0],
                 sum(a[1] for a in arrivals), first_chunk, whole)


# -- kokoro-onnx, sentence at a time -----------------------------------------------------------------

def first_sentence(reply: str) -> tuple[str, int]:
    """The reply's first sentence and its word count (when its last word arrives, synthesis starts)."""
    words = reply.split(" ")
    for i, word in enumerate(words):
        if word.rstrip("\"')").endswith((".", "!", "?")) and not word.lower().startswith(("dr.", "mr.", "mrs.")):
            return " ".join(words[: i + 1]), i + 1
    return reply, len(words)


def reference_ttfa(kokoro: Any, voice: str, reply: str, rate: float) -> tuple[float, float | None]:
    """(first audio, first sound) of kokoro-onnx, from the first word sent (its output is trimmed)."""
    sentence, n_words = first_sentence(reply)
    t = time.perf_counter()
    audio, sample_rate = kokoro.create(sentence, voice=voice, speed=1.0, lang="en-us")
    ttfa = (n_words - 1) / rate + (time.perf_counter() - t)
    sound = first_sound_s([(ttfa, np.asarray(audio, np.float32).reshape(-1), int(sample_rate))])
    return ttfa, sound


# -- cancel, in process ------------------------------------------------------------------------------

def cancel_stop_times(voice: str, threads: int, replies: list[str]) -> list[float]:
    from streamvoice.config import load_config
    from streamvoice.models import require
    from streamvoice.tts.driver import SpeechDriver
    from streamvoice.tts.g2p import phonemizer_for_voice
    from streamvoice.tts.kokoro_onnx import load_kokoro

    config = load_config(overrides={"tts": {"threads": threads, "voice": voice}})
    kokoro = load_kokoro(require(config.models.dir, "kokoro-82m"), config.tts)
    driver = SpeechDriver(kokoro, phonemizer_for_voice(voice), voice)

    def instantly(text: str) -> Iterator[str]:
        yield from (w + " " for w in text.split(" "))

    stops: list[float] = []
    for reply in replies:
        for batch in driver.speak(instantly(reply)):
            if batch.frames:
                driver.cancel()  # the next chunk is in synthesis now
        if driver.stats.stop_s is not None:
            stops.append(driver.stats.stop_s)
    return stops


def run_rate(rate: float, window_ms: int | None, replies: list[str], reference: Any, args: argparse.Namespace
             ) -> tuple[list[Reply], list[tuple[float, float | None]], ServerProcess]:
    """A fresh server at one setting; (our replies, kokoro-onnx's (TTFA, first sound), the server, stopped)."""
    server = ServerProcess(args.voice, args.threads, window_ms)
    ours: list[Reply] = []
    theirs: list[tuple[float, float | None]] = []
    label = "" if window_ms is None else f" window {window_ms} ms"
    try:
        for i, reply in enumerate(replies):
            if i % 2 == 1:  # the fresh server's first reply goes first; then alternate
                theirs.append(reference_ttfa(reference, args.voice, reply, rate))
                ours.append(asyncio.run(server_ttfa(server.url, reply, rate)))
            else:
                ours.append(asyncio.run(server_ttfa(server.url, reply, rate)))
                theirs.append(reference_ttfa(reference, args.voice, reply, rate))
            r = ours[-1]
            print(f"  {rate:g} w/s{label} reply {i + 1}: streamvoice {r.ttfa_s:.3f} s (sound {_s(r.heard_s, '.3f')}), "
                  f"kokoro-onnx {theirs[-1][0]:.3f} s (sound {_s(theirs[-1][1], '.3f')}); playback margin "
                  f"first chunk {_s(r.first_chunk_margin_s)}, reply {_s(r.margin_s)}", flush=True)
        server.end_rss_mib = server.rss_mib()
    finally:
        server.close()
    return ours, theirs, server


def _mib(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f} MiB"


def _s(value: float | None, spec: str = "+.3f") -> str:
    return "one burst" if value is None else f"{value:{spec}} s"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="3 replies per rate instead of 8")
    size.add_argument("--smoke", action="store_true", help="1 reply at 15 words/s: does it still run?")
    parser.add_argument("--rates", default="15,50", help="words per second, comma-separated")
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0 = cores)")
    parser.add_argument("--voice", default="af_heart")
    parser.add_argument("--first-window-ms", default="",
                        help="tts.first_audio_window_ms per arm, comma-separated (default: the configured one)")
    args = parser.parse_args(argv)

    from bench.tts_reference import load_kokoro_onnx
    from streamvoice.config import load_config
    from streamvoice.models import require

    config = load_config(overrides={"tts": {"threads": args.threads, "voice": args.voice}})
    reference = load_kokoro_onnx(require(config.models.dir, "kokoro-82m"), args.voice, args.threads)
    reference.create("Warming up.", voice=args.voice)  # its first-run allocation, as our server's warm-up
    rates = [15.0] if args.smoke else [float(r) for r in args.rates.split(",")]
    replies = REPLIES[:1] if args.smoke else REPLIES[:3] if args.quick else REPLIES
    arms: list[int | None] = [int(v) for v in args.first_window_ms.split(",") if v.strip()] or [None]
    samples: dict[str, list[float]] = {}
    by_arm: dict[str, dict[str, Any]] = {}
    rows = []
    for nth, rate in enumerate(rates):
        for window_ms in arms if nth % 2 == 0 else arms[::-1]:  # settings alternate in order: A B, B A, ...
            arm = str(config.tts.first_audio_window_ms if window_ms is None else window_ms)
            figures: dict[str, Any] = by_arm.setdefault(arm, {})
            replies_out, reference_out, server = run_rate(rate, window_ms, replies, reference, args)
            ours = [r.ttfa_s for r in replies_out]
            theirs = [t for t, _ in reference_out]
            ours_heard = [r.heard_s for r in replies_out if r.heard_s is not None]
            theirs_heard = [h for _, h in reference_out if h is not None]
            key = f"{rate:g}wps"
            tag = key if window_ms is None or len(arms) == 1 else f"{key}_window_{arm}ms"
            samples[f"streamvoice_{tag}"], samples[f"kokoro_onnx_{tag}"] = ours, theirs
            margins = [r.margin_s for r in replies_out if r.margin_s is not None]
            firsts = [r.first_chunk_margin_s for r in replies_out]
            samples[f"first_chunk_margin_{tag}"] = [m for m in firsts if m is not None]
            figures[key] = {
                "streamvoice_s": summary_stats(ours) | {"max": max(ours)},
                "kokoro_onnx_s": summary_stats(theirs) | {"max": max(theirs)},
                # first sound played (the first sample above -40 dBFS), not the first frame
                "streamvoice_sound_s": summary_stats(ours_heard) | {"max": max(ours_heard, default=None)},
                "kokoro_onnx_sound_s": summary_stats(theirs_heard) | {"max": max(theirs_heard, default=None)},
                "first_reply_after_start_s": ours[0],
                "start_to_ready_s": server.ready_s,
                "server_rss_mib": {"ready": server.ready_rss_mib, "after_replies": server.end_rss_mib},
                "audio_s": sum(r.audio_s for r in replies_out),
                "first_chunk_margin_s": firsts,  # per reply; None: the first chunk came in one burst
                "reply_margin_min_s": min(margins, default=None),
            }
            for name, values in ((f"streamvoice (window {arm} ms)", ours), ("kokoro-onnx sentence", theirs),
                                 (f"streamvoice (window {arm} ms), first sound", ours_heard),
                                 ("kokoro-onnx sentence, first sound", theirs_heard)):
                if values:
                    st = summary_stats(values)
                    rows.append([f"{rate:g}", name, st["p50"], max(values), values[0], len(values)])
    print_table("TTFA, two-sentence replies streamed word by word (seconds from the first word)", rows,
                ["words/s", "system", "p50", "max", "first", "n"])
    for arm, figures in by_arm.items():
        for key, fig in figures.items():
            ratio = fig["streamvoice_s"]["p50"] / fig["kokoro_onnx_s"]["p50"]
            split = [m for m in fig["first_chunk_margin_s"] if m is not None]
            print(f"window {arm} ms, {key}: streamvoice/kokoro-onnx p50 ratio {ratio:.2f}; first reply after start "
                  f"{fig['first_reply_after_start_s']:.3f} s; start -> ready {fig['start_to_ready_s']:.1f} s; "
                  f"first chunk split in {len(split)} of {len(fig['first_chunk_margin_s'])} replies, margin min "
                  f"{_s(min(split, default=None))}; reply margin min {_s(fig['reply_margin_min_s'])}; server RSS "
                  f"{_mib(fig['server_rss_mib']['ready'])} at ready, {_mib(fig['server_rss_mib']['after_replies'])} "
                  "after the replies")
    headline = dict(by_arm[next(iter(by_arm))])
    if len(by_arm) > 1:
        headline["by_first_window_ms"] = by_arm
    headline["load_avg_1m_at_end"] = os.getloadavg()[0]  # the machine is shared: how busy it was
    print(f"load average (1 min) at the end: {headline['load_avg_1m_at_end']:.1f} on {os.cpu_count()} cores")
    stops = cancel_stop_times(args.voice, args.threads, replies[:3])
    headline["cancel_stop_s"] = summary_stats(stops)
    print(f"cancel stop time p50 {headline['cancel_stop_s']['p50']}, "
          f"max of {len(stops)}: {max(stops, default=0):.4f} s")
    path = write_result("tts_ttfa", headline, settings={"quick": args.quick, "smoke": args.smoke,
                        "threads": args.threads, "voice": args.voice, "rates_wps": rates,
                        "first_audio_window_ms": [config.tts.first_audio_window_ms if a is None else a for a in arms],
                        "server": "streamvoice serve (whisper-tiny.en + kokoro-82m), fresh per rate and setting"},
                        argv=argv, samples=samples)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
