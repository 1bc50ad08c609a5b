"""Voice loop: end of user speech → first reply audio, through a real server over a loopback socket.

A real server (real models) listens on 127.0.0.1 with an OS-chosen port. For each speech clip a
client opens a session, streams the clip at real time (a 20 ms chunk leaves when a microphone
would have captured its last sample), then keeps streaming silence, as a microphone does. The
client is also the agent, an echo: on every ``final`` it sends the text back as one ``text`` with
``final: true`` and turn id = utterance id.

End of user speech = the audio time of the server's ``speech`` ``end`` event (the end of the
last voiced frame), mapped to the wall time the client captured that sample. Loop latency =
the first ``tts_audio`` of the reply turn received − that. It is what a user hears: the VAD's
end-of-speech wait, the final decode, the text turnaround, the first sentence's synthesis and
both socket hops. It is split into end of speech → ``final`` received and ``final`` → first audio.

``--transport websocket,webrtc`` (the default: both, each clip on each in turn; or one of them):
over WebRTC the client makes a call (``streamvoice.client.webrtc``), the clip leaves on its
microphone track at real time and the reply comes back on the speech track. First reply audio is
then the first track frame holding the reply's first sample (``tts_text.track_ms``), when it was
decoded at the client (after the jitter buffer); end of user speech maps the server's audio time to
the moment the track frame holding it left. The call's set-up time is also measured: offer POST →
data channel open (and, for a WebSocket, connect → ``ready``).

``--url ws://127.0.0.1:PORT/...`` measures an already running server instead.

``--agent server-echo`` or ``--agent llm`` put the agent on the server (``serve --agent``): the
client only streams and listens. ``llm`` answers from a local OpenAI-compatible stub
(``bench/llm_stub.py``) streaming a scripted reply at ``--llm-tokens-per-s`` after
``--llm-first-token-s``. Each clip is then run twice on one loaded engine, without and with the
eager end of turn (``asr.eager_ms``, ``--eager-ms``), and both are reported, with the eager
finals withdrawn (``turn_resumed``) per 100 turns.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import csv
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import SPEECH_DIR, print_table, summary_stats, write_result

SAMPLE_RATE = 16_000
TRACK_RATE = 48_000  # a call's microphone track
CHUNK_MS = 20
QUICK_CLIPS = 3
TRANSPORTS = ("websocket", "webrtc")


# -- pure parts (unit-tested without models or sockets) -------------------------------------------
class CaptureClock:
    """Maps input audio time to the wall time a live microphone would have captured it.

    Each chunk is logged with the wall time it was sent; a chunk is sent once its last sample is
    captured, so sample time ``t`` inside a chunk ending at ``end`` was captured ``end - t``
    seconds before the chunk left.
    """

    def __init__(self, rate: int = SAMPLE_RATE) -> None:
        self.rate = rate
        self._ends: list[int] = []  # sample index just past each chunk
        self._walls: list[float] = []

    def sent(self, end_sample: int, wall: float) -> None:
        if self._ends and end_sample <= self._ends[-1]:
            raise ValueError("chunks must be logged in order")
        self._ends.append(end_sample)
        self._walls.append(wall)

    def captured_at(self, time_s: float) -> float | None:
        """Wall time audio time ``time_s`` was captured, or None if that audio was never sent."""
        sample = round(time_s * self.rate)
        i = bisect.bisect_left(self._ends, sample)
        if i == len(self._ends):
            return None
        return self._walls[i] - (self._ends[i] - sample) / self.rate


@dataclass(slots=True)
class Utterance:
    """What the client saw of one utterance and the reply to it (wall times, seconds)."""

    id: int
    speech_end_s: float | None = None  # audio time of the speech end event
    final_wall: float | None = None
    server_latency_s: float | None = None  # the final's own latency_ms, as the server measured it
    text: str = ""
    reply_sent_wall: float | None = None
    first_audio_wall: float | None = None
    reply_done: bool = False
    eager_final_wall: float | None = None  # the utterance's latest eager final (the one its reply answers)


@dataclass(slots=True)
class ClipRun:
    clip: str
    duration_s: float
    utterances: dict[int, Utterance] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    timed_out: bool = False
    eager_finals: int = 0
    resumed: int = 0  # eager finals withdrawn (turn_resumed)
    transport: str = "websocket"
    setup: dict[str, float] = field(default_factory=dict)  # the session's set-up times, s (RtcSession.timings)


def loop_samples(run: ClipRun, clock: CaptureClock) -> list[dict[str, float]]:
    """Per replied utterance: end of speech → final, final → first audio, end of speech → first audio
    (and the final's ``latency_ms`` as the server reported it, when it did)."""
    out = []
    for u in sorted(run.utterances.values(), key=lambda u: u.id):
        if u.speech_end_s is None or u.final_wall is None or u.first_audio_wall is None:
            continue
        spoken = clock.captured_at(u.speech_end_s)
        if spoken is None:
            continue
        sample = {"speech_end_to_final_s": u.final_wall - spoken,
                  "final_to_first_audio_s": u.first_audio_wall - u.final_wall,
                  "speech_end_to_first_audio_s": u.first_audio_wall - spoken}
        if u.server_latency_s is not None:
            sample["server_reported_final_latency_s"] = u.server_latency_s
        if u.eager_final_wall is not None:
            sample["speech_end_to_eager_final_s"] = u.eager_final_wall - spoken
        out.append(sample)
    return out


def is_settled(run: ClipRun) -> bool:
    """Every utterance heard has its final, and every non-empty final its reply's first audio."""
    for u in run.utterances.values():
        if u.final_wall is None:
            return False
        if u.text.strip() and u.first_audio_wall is None and not u.reply_done:
            return False
    return True


def pcm_s16le(samples: np.ndarray) -> bytes:
    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    return (clipped * 32767.0).astype("<i2").tobytes()


# -- the client (echo agent) -------------------------------------------------------------------------
class _Replies:
    """Which utterance each reply turn answers, and when its first audio reached the client."""

    def __init__(self, run: ClipRun, server_agent: bool) -> None:
        self.run = run
        self.server_agent = server_agent
        self.turns: dict[int, Utterance] = {}  # reply turn id -> the utterance it answers

    def attribute(self, turn: int) -> None:
        """A reply turn of the server's agent answers the latest utterance still waiting for audio."""
        if self.server_agent and turn not in self.turns:
            waiting = [u for u in self.run.utterances.values() if u.first_audio_wall is None]
            if waiting:
                self.turns[turn] = max(waiting, key=lambda u: u.id)

    def audio(self, turn: int, wall: float) -> None:
        self.attribute(turn)
        replied = self.turns.get(turn)
        if replied is not None and replied.first_audio_wall is None:
            replied.first_audio_wall = wall


class _TrackReplies:
    """WebRTC: a reply's first audio is the first frame of the speech track holding the first sample of
    its first ``tts_text`` (its ``track_ms``), whichever of the two reaches the client first."""

    def __init__(self, replies: _Replies) -> None:
        self.replies = replies
        self.frames: deque[tuple[float, float]] = deque(maxlen=1500)  # (track ms, arrival wall), 30 s
        self.starts: dict[int, float] = {}  # turn -> track ms of its first sample, until its frame came

    def caption(self, turn: int, track_ms: float, offset_ms: float) -> None:
        if turn in self.starts or (turn in self.replies.turns and self.replies.turns[turn].first_audio_wall):
            return
        self.starts[turn] = track_ms - offset_ms
        for frame_ms, wall in self.frames:
            self._match(frame_ms, wall)

    def frame(self, track_ms: float, wall: float) -> None:
        self.frames.append((track_ms, wall))
        self._match(track_ms, wall)

    def _match(self, frame_ms: float, wall: float) -> None:
        for turn, start in list(self.starts.items()):
            if frame_ms + CHUNK_MS > start:
                del self.starts[turn]
                self.replies.audio(turn, wall)


async def run_clip(url: str, name: str, audio: np.ndarray, *, language: str, min_tail_s: float,
                   timeout_s: float, server_agent: bool = False,
                   transport: str = "websocket") -> tuple[ClipRun, CaptureClock]:
    """One session: stream ``audio`` (16 kHz float32) at real time, echo finals (or, with
    ``server_agent``, let the server's agent reply), log the timings. ``transport="webrtc"``: a call,
    the clip on its microphone track, the reply heard on its speech track."""
    from streamvoice.protocol import ErrorMessage, Final, Speech, TtsAudio, TtsDone, TtsText, TurnResumed
    from streamvoice.protocol.options import AsrOptions

    run = ClipRun(clip=name, duration_s=len(audio) / SAMPLE_RATE, transport=transport)
    replies = _Replies(run, server_agent)
    track = _TrackReplies(replies)
    rtc = transport == "webrtc"
    clock = CaptureClock(TRACK_RATE if rtc else SAMPLE_RATE)
    asr = AsrOptions(language=language)
    started = time.monotonic()
    if rtc:
        from streamvoice.client.rtc_audio import MicTrack
        from streamvoice.client.webrtc import connect as rtc_connect

        mic = MicTrack(on_frame=clock.sent)  # each 20 ms frame's end, as it leaves: "captured" then
        opening: Any = rtc_connect(url, asr=asr, mic=mic, open_timeout=20.0)
    else:
        from streamvoice.client import connect

        opening = connect(url, asr=asr)

    async with opening as session:
        run.setup = dict(getattr(session, "timings", {"ready_s": time.monotonic() - started}))
        if rtc:
            session.audio.listeners.append(lambda f: track.frame(f.track_ms, f.at))

        async def receive() -> None:
            async for msg in session:
                now = time.monotonic()
                if isinstance(msg, Speech) and msg.event == "end":
                    run.utterances.setdefault(msg.utterance, Utterance(msg.utterance)).speech_end_s = msg.time_s
                elif isinstance(msg, Final) and msg.eager:
                    run.eager_finals += 1
                    u = run.utterances.setdefault(msg.utterance, Utterance(msg.utterance))
                    u.eager_final_wall = now
                elif isinstance(msg, TurnResumed):
                    run.resumed += 1
                elif isinstance(msg, Final):
                    u = run.utterances.setdefault(msg.utterance, Utterance(msg.utterance))
                    u.final_wall, u.text = now, msg.text
                    u.server_latency_s = None if msg.latency_ms is None else msg.latency_ms / 1000.0
                    if msg.text.strip() and not server_agent:  # the echo agent answers at once
                        replies.turns[await session.say(msg.text)] = u
                        u.reply_sent_wall = time.monotonic()
                elif isinstance(msg, TtsAudio):
                    replies.audio(msg.turn, now)
                elif isinstance(msg, TtsText):  # WebRTC: the reply's audio is on the track
                    replies.attribute(msg.turn)
                    track.caption(msg.turn, msg.track_ms, msg.offset_ms)
                elif isinstance(msg, TtsDone):
                    if msg.turn in replies.turns:
                        replies.turns[msg.turn].reply_done = True
                elif isinstance(msg, ErrorMessage):
                    run.errors.append(f"{msg.code}: {msg.message}")

        receiver = asyncio.create_task(receive())

        async def send_audio() -> None:
            silence = np.zeros(step, dtype=np.float32)
            t0 = time.monotonic()
            sent = 0
            min_end = len(audio) + int(min_tail_s * SAMPLE_RATE)
            while (sent < min_end or not is_settled(run)) and not receiver.done():
                chunk = audio[sent : sent + step] if sent < len(audio) else silence
                end = sent + len(chunk)
                wait = t0 + end / SAMPLE_RATE - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                await session.send_audio(chunk)
                clock.sent(end, time.monotonic())
                sent = end

        async def send_track() -> None:
            """The clip goes out on the track at real time, then the track's own silence, as a microphone."""
            await session.send_audio(audio)
            session.mic.flush()
            await session.mic.drained()
            tail_end = time.monotonic() + min_tail_s
            while (time.monotonic() < tail_end or not is_settled(run)) and not receiver.done():
                await asyncio.sleep(CHUNK_MS / 1000)

        step = SAMPLE_RATE * CHUNK_MS // 1000
        try:
            await asyncio.wait_for(send_track() if rtc else send_audio(), timeout_s)
        except TimeoutError:
            run.timed_out = True
        finally:
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await receiver
            if receiver.done() and not receiver.cancelled() and receiver.exception() is not None:
                run.errors.append(f"receiver: {receiver.exception()!r}")
    return run, clock


# -- the server --------------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def local_server(model: str, **sections: dict[str, Any]) -> AsyncIterator[str]:
    """The real server with real models on 127.0.0.1, an OS-chosen port; yields its stream URL."""
    async with local_engine(model) as serve, serve(**sections) as url:
        yield url


@contextlib.asynccontextmanager
async def local_engine(model: str) -> AsyncIterator[Any]:
    """Real models loaded once; yields ``serve(**config_sections)``, a context manager giving the
    stream URL of a server on that engine (so two settings are compared on the same engine)."""
    from streamvoice.config import load_config
    from streamvoice.engine.engine import load_engine
    from streamvoice.server.app import Server
    from streamvoice.server.http import STREAM_PATH

    def config(**sections: dict[str, Any]) -> Any:
        overrides: dict[str, Any] = {"asr": {"model": model}, "server": {"host": "127.0.0.1", "port": 0}}
        for name, values in sections.items():
            overrides[name] = {**overrides.get(name, {}), **values}
        return load_config(overrides=overrides)

    @contextlib.asynccontextmanager
    async def serve(**sections: dict[str, Any]) -> AsyncIterator[str]:
        async with Server(config(**sections), engine) as server:
            yield f"ws://127.0.0.1:{server.port}{STREAM_PATH}"

    engine = await asyncio.to_thread(load_engine, config())
    try:
        yield serve
    finally:
        await asyncio.to_thread(engine.close)


# -- main ---------------------------------------------------------------------------------------------
def _clips(data: Path, count: int, max_s: float) -> list[tuple[str, Path]]:
    """The first ``count`` LJ Speech clips of the manifest no longer than ``max_s`` (a spoken turn)."""
    with (data / "manifest.tsv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t")
                if r["file"].startswith("ljspeech/") and float(r["duration_s"]) <= max_s]
    return [(r["file"], data / r["file"]) for r in rows[:count]]


def _load(path: Path) -> np.ndarray:
    from streamvoice.audio.resample import resample
    from streamvoice.audio.wavio import read_audio

    audio, rate = read_audio(path)
    return resample(audio, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else audio


Runs = list[tuple[ClipRun, CaptureClock]]
LLM_REPLY = ("Sure. Here is a short answer to what you just said, spoken while the rest is still being "
             "written, so you hear it sooner. Anything else?")


async def _measure(args: argparse.Namespace, clips: list[tuple[str, Path]]) -> dict[str, Runs]:
    """Runs per leg: the transport (client echo), or ``plain`` and ``eager`` (server agent; with
    ``_webrtc`` appended for calls). Each clip is run on every transport in turn, so that a change
    in the machine's load hits both alike."""
    server_agent = args.agent != "echo"

    async def over(url: str, leg: str) -> dict[str, Runs]:
        await _warm_up(url)
        runs: dict[str, Runs] = {t: [] for t in args.transports}
        for i, (name, path) in enumerate(clips):
            audio = _load(path)
            k = i % len(args.transports)  # each transport goes first as often as the others
            for transport in args.transports[k:] + args.transports[:k]:
                runs[transport].append(await run_clip(
                    url, name, audio, language=args.language, min_tail_s=args.tail,
                    timeout_s=len(audio) / SAMPLE_RATE + args.timeout, server_agent=server_agent,
                    transport=transport))
                print(f"  [{leg} {transport}] {name}: {_describe(*runs[transport][-1])}", flush=True)
        return runs

    if args.url or not server_agent:
        async with contextlib.AsyncExitStack() as stack:
            url = args.url or await stack.enter_async_context(local_server(args.model))
            return await over(url, "server" if server_agent else "echo")
    from bench.llm_stub import FakeLlm

    tokens = [w + " " for w in LLM_REPLY.split()]  # about one word per token
    async with FakeLlm(replies=[tokens] * 1000, first_token_s=args.llm_first_token_s,
                       tokens_per_s=args.llm_tokens_per_s) as llm, local_engine(args.model) as serve:
        agent = ({"kind": "echo"} if args.agent == "server-echo"
                 else {"kind": "llm", "llm_url": llm.url, "llm_model": "stub"})
        legs: dict[str, Runs] = {}
        for leg, eager_ms in (("plain", 0), ("eager", args.eager_ms)):
            async with serve(agent=agent, asr={"eager_ms": eager_ms}) as url:
                for transport, runs in (await over(url, leg)).items():
                    legs[leg if transport == "websocket" else f"{leg}_{transport}"] = runs
        return legs


async def _warm_up(url: str) -> None:
    """One spoken sentence before measuring: the first synthesis of a fresh engine is seconds slower."""
    from streamvoice.client import connect
    from streamvoice.protocol import TtsDone

    async with connect(url, credits="instant") as session:
        await session.say("Warming up.")
        async with asyncio.timeout(60):
            async for msg in session:
                if isinstance(msg, TtsDone):
                    return


def _figures(runs: Runs) -> tuple[dict[str, Any], dict[str, list[float]]]:
    per = [s for run, clock in runs for s in loop_samples(run, clock)]
    keys = ("speech_end_to_first_audio_s", "speech_end_to_final_s", "final_to_first_audio_s")
    samples = {k: [s[k] for s in per] for k in keys}
    figures: dict[str, Any] = {k: summary_stats(v) for k, v in samples.items()}
    # the server's own final latency_ms, for comparison with what the client measured
    figures["server_reported_final_latency_s"] = summary_stats(
        [s["server_reported_final_latency_s"] for s in per if "server_reported_final_latency_s" in s])
    eager = [s["speech_end_to_eager_final_s"] for s in per if "speech_end_to_eager_final_s" in s]
    if eager:
        samples["speech_end_to_eager_final_s"] = eager
        figures["speech_end_to_eager_final_s"] = summary_stats(eager)
    figures["replies"] = len(per)
    turns = sum(len(r.utterances) for r, _ in runs)
    figures["utterances"] = turns
    figures["eager_finals"] = sum(r.eager_finals for r, _ in runs)
    figures["eager_withdrawn_per_100_turns"] = 100.0 * sum(r.resumed for r, _ in runs) / max(1, turns)
    figures["timed_out_clips"] = sum(r.timed_out for r, _ in runs)
    # set-up: a call, offer POST -> data channel open (setup_s); a WebSocket, connect -> ready (ready_s)
    for key in sorted({k for r, _ in runs for k in r.setup}):
        samples[f"session_{key}"] = [r.setup[k] for r, _ in runs for k in r.setup if k == key]
        figures[f"session_{key}"] = summary_stats(samples[f"session_{key}"])
    figures["errors"] = [e for r, _ in runs for e in r.errors][:10]
    return figures, samples


def _describe(run: ClipRun, clock: CaptureClock) -> str:
    parts = [f"{s['speech_end_to_first_audio_s']:.2f} s"
             + (f" (eager final {s['speech_end_to_eager_final_s']:.2f} s)" if "speech_end_to_eager_final_s" in s
                else "") for s in loop_samples(run, clock)]
    extra = (" TIMED OUT" if run.timed_out else "") + (f" errors: {run.errors}" if run.errors else "")
    return f"end of speech → first audio {', '.join(parts) or 'none'}{extra}"


def _transports(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in names if t not in TRANSPORTS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"transports are {', '.join(TRANSPORTS)} (comma-separated), not {text!r}")
    return list(dict.fromkeys(names))


SETUP_ROWS = {"websocket": ("session_ready_s", "set-up: connect -> ready"),
              "webrtc": ("session_setup_s", "set-up: offer POST -> data channel open")}


def _report_echo(legs: dict[str, Runs], keys: Sequence[str], settings: dict[str, Any],
                 argv: Sequence[str] | None) -> int:
    """One table, the transports side by side; the JSON keeps the WebSocket figures at the top
    (as before) and a call's under ``webrtc``."""
    per = {t: _figures(runs) for t, runs in legs.items()}
    rows = []
    for k in [*keys, "setup"]:
        row: list[Any] = ["set-up (see below)" if k == "setup" else k]
        for transport, (figures, _) in per.items():
            stats = figures.get(SETUP_ROWS[transport][0] if k == "setup" else k) or {}
            row += [stats.get("n"), stats.get("p50"), stats.get("p95")]
        rows.append(row)
    print_table("Voice loop (echo agent, loopback): " + " | ".join(per),
                rows, ["figure", *(f"{t} {h}" for t in per for h in ("n", "p50 s", "p95 s"))])
    for transport in per:
        print(f"  {transport} {SETUP_ROWS[transport][1]}")
    first = "websocket" if "websocket" in per else next(iter(per))
    figures, samples = dict(per[first][0]), dict(per[first][1])
    for transport, (f, smp) in per.items():
        if transport != first:
            figures[transport] = f
            samples.update({f"{transport}.{k}": v for k, v in smp.items()})
    name = "voice_loop" if first == "websocket" else f"voice_loop_{first}"
    print(f"wrote {write_result(name, figures, settings=settings, argv=argv, samples=samples, module='voice_loop')}")
    return 0 if all(f["replies"] for f, _ in per.values()) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.voice_loop", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_CLIPS} clips")
    parser.add_argument("--smoke", action="store_true", help="1 clip (CI: does it still run?)")
    parser.add_argument("--data", type=Path, default=SPEECH_DIR, help="speech folder (manifest.tsv)")
    parser.add_argument("--clips", type=int, default=None, help=f"how many clips (default 10, quick {QUICK_CLIPS})")
    parser.add_argument("--max-clip-s", type=float, default=6.0, help="longest clip used, s (a spoken turn)")
    parser.add_argument("--model", default="whisper-base", help="ASR model the local server loads")
    parser.add_argument("--language", default="en", help="ASR language asked in hello ('auto' to detect)")
    parser.add_argument("--url", default=None, help="measure this running server instead of starting one")
    parser.add_argument("--tail", type=float, default=1.5, help="least silence streamed after each clip, s")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds allowed per clip beyond its length")
    parser.add_argument("--agent", choices=("echo", "server-echo", "llm"), default="echo",
                        help="echo: the client echoes finals; server-echo / llm: the server's agent replies, "
                             "measured without and with the eager end of turn")
    parser.add_argument("--eager-ms", type=int, default=240, help="asr.eager_ms of the eager leg")
    parser.add_argument("--llm-first-token-s", type=float, default=0.15, help="the LLM stub's first-token delay")
    parser.add_argument("--llm-tokens-per-s", type=float, default=30.0, help="the LLM stub's token rate")
    parser.add_argument("--transport", default="websocket,webrtc", type=_transports,
                        help="websocket, webrtc or a comma list (default both, each clip on each in turn)")
    args = parser.parse_args(argv)
    args.transports = args.transport
    clips = _clips(args.data, args.clips or (1 if args.smoke else QUICK_CLIPS if args.quick else 10), args.max_clip_s)
    if not clips:
        print(f"no LJ Speech clips in {args.data / 'manifest.tsv'}")
        return 1
    legs = asyncio.run(_measure(args, clips))

    keys = ("speech_end_to_first_audio_s", "speech_end_to_final_s", "final_to_first_audio_s",
            "server_reported_final_latency_s")
    settings: dict[str, Any] = {
        "asr_model": args.model, "tts_model": "kokoro-82m", "language": args.language,
        "clips": [name for name, _ in clips], "max_clip_s": args.max_clip_s, "chunk_ms": CHUNK_MS,
        "pacing": "real time", "server": args.url or "local, 127.0.0.1 port 0",
        "agent": {"echo": "echo in the client (final text as one final text)",
                  "server-echo": "echo on the server (serve --agent echo)",
                  "llm": f"LLM on the server (serve --agent llm) against bench/llm_stub.py: {args.llm_tokens_per_s:g} "
                         f"tokens/s after {args.llm_first_token_s:g} s"}[args.agent]}
    settings["transports"] = args.transports
    settings["webrtc"] = ("aiortc client (streamvoice.client.webrtc), host candidates on loopback's interface; "
                          "first reply audio = the first track frame holding the reply's first sample "
                          "(tts_text.track_ms); set-up = offer POST -> data channel open")
    if args.agent == "echo":
        return _report_echo(legs, keys, settings, argv)
    settings.update(eager_ms=args.eager_ms, llm_first_token_s=args.llm_first_token_s,
                    llm_tokens_per_s=args.llm_tokens_per_s)
    figures = {}
    all_samples: dict[str, list[float]] = {}
    for leg, runs in legs.items():
        figures[leg], samples = _figures(runs)
        all_samples.update({f"{leg}.{k}": v for k, v in samples.items()})
    print_table(f"Voice loop ({args.agent} on the server, loopback {'/'.join(args.transports)}), "
                "without / with the eager end of turn",
                [[f"{leg}: {k}", figures[leg][k]["n"], figures[leg][k]["p50"], figures[leg][k]["p95"]]
                 for leg in figures for k in keys[:3]]
                + [[f"{leg}: eager finals withdrawn per 100 turns", figures[leg]["utterances"],
                    round(figures[leg]["eager_withdrawn_per_100_turns"], 1), ""] for leg in figures],
                ["figure", "n", "p50 s", "p95 s"])
    name = "voice_loop_llm" if args.agent == "llm" else "voice_loop_server_echo"
    path = write_result(name, figures, settings=settings, argv=argv, samples=all_samples, module="voice_loop")
    print(f"wrote {path}")
    return 0 if all(f["replies"] for f in figures.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
