"""No self-hearing with the real models, full duplex over a WebSocket: a simulated client plays the
server's reply (Kokoro) in real time, reports ``flow``, and its microphone hears that playback
back (a delay, a short room tail, a level below the user's, a noise floor), with or without a real
user clip (LJ001-0001) on top. The echo alone must give no transcript and no barge-in; the user
over it must be transcribed and stop the reply."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from streamvoice.client import connect
from streamvoice.config import Config, load_config
from streamvoice.engine.engine import load_engine
from streamvoice.protocol import Final, Partial, TtsAudio, TtsDone
from streamvoice.protocol.messages import ServerFlow, Speech
from streamvoice.protocol.options import AsrOptions, TtsOptions
from tests.server.conftest import url
from tests.server.test_server_models import clip, words

pytestmark = pytest.mark.models

RATE = 16000
TICK = 320  # 20 ms: the client's audio device period, for playback and capture alike
REPLY = ("The printing press changed everything. Books became cheap and common, and ideas travelled "
         "faster than ever before. Within a century, readers across Europe argued about the same pages.")
SPEECH_RMS = 0.05  # the user's speech level at the microphone (about -26 dBFS)


def room(delay_ms: int) -> np.ndarray:
    """Loudspeaker to microphone: the delay, the direct sound, then a 150 ms decaying tail (-14 dB)."""
    rng = np.random.default_rng(7)
    tail = rng.standard_normal(int(0.15 * RATE)) * np.exp(-np.arange(int(0.15 * RATE)) / (0.04 * RATE))
    response = np.zeros(int(delay_ms * RATE / 1000) + 1 + len(tail), np.float32)
    start = int(delay_ms * RATE / 1000)
    response[start] = 1.0
    response[start + 1:] = 0.2 * tail / np.sqrt(np.sum(tail**2))
    return response


@dataclass
class Duplex:
    """The client: plays what it receives, captures the room, streams it back."""

    echo_db: float
    delay_ms: int
    user: np.ndarray | None = None
    user_at_s: float = 1.5  # after the reply's first audio is played
    messages: list[object] = field(default_factory=list)
    played: list[np.ndarray] = field(default_factory=list)  # what the loudspeaker put out, per tick
    queue: list[np.ndarray] = field(default_factory=list)  # received, not yet played
    played_ms: dict[int, float] = field(default_factory=dict)
    voiced: list[float] = field(default_factory=list)  # squares of the reply's voiced samples (its level)
    times: dict[str, float] = field(default_factory=dict)  # loop time: user (clip starts), start, cancelled

    def mark(self, what: str) -> None:
        self.times.setdefault(what, asyncio.get_running_loop().time())

    def receive(self, m: object) -> None:
        self.messages.append(m)
        if isinstance(m, TtsAudio):
            pcm = np.frombuffer(m.data, "<i2").astype(np.float32) / 32768
            assert m.sample_rate == RATE
            self.queue.extend(pcm[i:i + TICK] for i in range(0, len(pcm), TICK))
            loud = pcm[np.abs(pcm) > 0.01]
            self.voiced.extend((loud**2).tolist()[:2000])
            self.turn = m.turn
        elif isinstance(m, TtsDone) and m.status == "cancelled":
            self.queue.clear()  # the server stopped the reply: so does the loudspeaker
            self.mark("cancelled")
        elif isinstance(m, Speech) and m.event == "start":
            self.mark("start")

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [m for m in self.messages if isinstance(m, kind)]

    async def run(self, s, seconds_after_reply: float, stop: asyncio.Event) -> None:  # type: ignore[no-untyped-def]
        response = room(self.delay_ms)
        noise = np.random.default_rng(3)
        history = np.zeros(len(response) + TICK, np.float32)
        loop = asyncio.get_running_loop()
        t0, n, first_play, quiet_since = loop.time(), 0, None, None
        while not stop.is_set():
            out = np.zeros(TICK, np.float32)
            if self.queue:
                frame = self.queue.pop(0)
                out[: len(frame)] = frame
                first_play = n if first_play is None else first_play
                self.played_ms[self.turn] = self.played_ms.get(self.turn, 0.0) + len(frame) * 1000 / RATE
            history = np.concatenate([history[TICK:], out])
            level = np.sqrt(np.mean(self.voiced)) if self.voiced else 1.0
            gain = SPEECH_RMS * 10 ** (self.echo_db / 20) / level
            mic = gain * np.convolve(history, response)[len(history) - TICK:len(history)].astype(np.float32)
            mic += noise.standard_normal(TICK).astype(np.float32) * 0.0005
            if self.user is not None and first_play is not None:
                at = (n - first_play) * TICK - int(self.user_at_s * RATE)
                if 0 <= at < len(self.user):
                    self.mark("user")
                    mic[: len(self.user[at:at + TICK])] += self.user[at:at + TICK]
            await s.send_audio(mic)
            if n % 5 == 0 and self.played_ms:
                await s.flow(self.turn, int(self.played_ms[self.turn]))
            user_left = self.user is not None and (first_play is None or (
                (n - first_play) * TICK < int(self.user_at_s * RATE) + len(self.user)))
            done = any(isinstance(m, TtsDone) for m in self.messages) and not self.queue and not user_left
            quiet_since = (quiet_since or n) if done else None
            if quiet_since is not None and (n - quiet_since) * TICK / RATE >= seconds_after_reply:
                break
            n += 1
            await asyncio.sleep(max(0.0, t0 + n * TICK / RATE - loop.time()))
        await s.end_audio()


def config(models_dir: Path, **server: object) -> Config:
    return load_config({}, {"models": {"dir": str(models_dir)}, "asr": {"model": "whisper-tiny.en", "language": "en"},
                            "server": {"port": 0, "vad_barge_in": True, **server}})


@pytest.fixture(scope="module")
def engine(models_dir: Path):  # type: ignore[no-untyped-def]
    eng = load_engine(load_config({}, {"models": {"dir": str(models_dir)},
                                       "asr": {"model": "whisper-tiny.en", "language": "en"}}))
    yield eng
    eng.close()


async def duplex(start_server, engine, models_dir: Path, client: Duplex, after_s: float,  # type: ignore[no-untyped-def]
                 **server: object) -> Duplex:
    srv = await start_server(engine=engine, config=config(models_dir, **server))
    if not engine.tts_ready:
        pytest.skip("TTS model not loadable here")
    async with connect(url(srv), asr=AsrOptions(language="en", model="whisper-tiny.en"),
                       tts=TtsOptions(sample_rate=RATE)) as s:
        stop = asyncio.Event()

        async def receive() -> None:
            while True:
                client.receive(await s.recv())

        receiver = asyncio.create_task(receive())
        await s.say(REPLY)
        async with asyncio.timeout(180):
            await client.run(s, after_s, stop)
            # every utterance the server heard has its final before this long after the end of the audio
            await asyncio.sleep(6.0)
        receiver.cancel()
        await asyncio.gather(receiver, return_exceptions=True)
    return client


def user_clip(data_dir: Path) -> np.ndarray:
    speech = clip(data_dir, "LJ001-0001.wav")
    return (speech * SPEECH_RMS / np.sqrt(np.mean(speech[np.abs(speech) > 0.01] ** 2))).astype(np.float32)


@pytest.mark.parametrize(("echo_db", "delay_ms"), [(-12, 80), (-6, 250)])
async def test_the_reply_heard_back_gives_no_final_and_no_barge_in(  # type: ignore[no-untyped-def]
        start_server, engine, models_dir, echo_db, delay_ms) -> None:
    c = await duplex(start_server, engine, models_dir, Duplex(echo_db, delay_ms), after_s=3.0)
    done = c.of(TtsDone)
    heard = [m for m in c.messages if isinstance(m, (Speech, Partial, Final))]
    assert [d.status for d in done] == ["complete"], (done, heard)
    assert not heard, heard


async def test_without_self_hearing_the_same_echo_interrupts_the_reply(  # type: ignore[no-untyped-def]
        start_server, engine, models_dir) -> None:
    """The control: the echo above is loud and clear enough to be heard as speech."""
    c = await duplex(start_server, engine, models_dir, Duplex(-12, 80), after_s=3.0, self_hearing=False)
    assert c.of(Speech) and c.of(TtsDone)[0].status == "cancelled"
    heard = words(" ".join(f.text for f in c.of(Final)))
    assert heard & words(REPLY), c.of(Final)


@pytest.mark.parametrize(("echo_db", "delay_ms"), [(-12, 80), (-6, 250)])
async def test_a_user_over_the_echo_is_transcribed_and_barges_in(  # type: ignore[no-untyped-def]
        start_server, engine, models_dir, data_dir, references, echo_db, delay_ms) -> None:
    c = await duplex(start_server, engine, models_dir, Duplex(echo_db, delay_ms, user=user_clip(data_dir)),
                     after_s=2.0)
    assert c.of(TtsDone)[0].status == "cancelled"  # the user stopped the reply
    t = c.times
    assert t["user"] < t["start"] <= t["cancelled"], t  # not before the user spoke: the echo did not do it
    print(f"echo {echo_db} dB / {delay_ms} ms: user clip start -> speech start {t['start'] - t['user']:.2f} s, "
          f"-> reply cancelled {t['cancelled'] - t['user']:.2f} s")
    finals = [f for f in c.of(Final) if not f.eager]
    ref = words(references["LJ001-0001.wav"])
    got = words(" ".join(f.text for f in finals))
    lag = [m for m in c.messages if isinstance(m, ServerFlow)]  # degradation under load, if any
    assert len(ref & got) / len(ref) >= 0.5, (finals, lag)
    assert len((got - ref) & words(REPLY)) <= 2, finals  # hardly any of the echo
