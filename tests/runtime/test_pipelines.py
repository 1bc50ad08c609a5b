"""Pipelines fed typed events and read through an outbox: the fake engine, no sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
import pytest

from streamvoice.capabilities import Capabilities
from streamvoice.config import load_config
from streamvoice.engine.fake import FakeEngine
from streamvoice.protocol.messages import Final, ServerMessage, Speech, TtsAudio, TtsDone
from streamvoice.protocol.options import AsrOptions, AudioInputOptions, TtsOptions
from streamvoice.runtime.barge_in import BargeIn
from streamvoice.runtime.events import (
    AudioEnded,
    AudioSamples,
    CancelRequested,
    ClientBye,
    OptionsChanged,
    SessionStarted,
    TextReceived,
)
from streamvoice.runtime.router import route
from streamvoice.runtime.session import Session
from tests.server.test_server_fake_engine import speechlike

RATE = 16000


class ListOutbox:
    """Collects what the pipelines put out, in order."""

    def __init__(self) -> None:
        self.messages: list[ServerMessage] = []
        self.purged: list[int] = []

    def put(self, message: ServerMessage) -> None:
        self.messages.append(message)

    async def put_audio(self, message: TtsAudio) -> None:
        self.messages.append(message)

    def purge_audio(self, turn: int) -> int:
        self.purged.append(turn)
        return 0

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [m for m in self.messages if isinstance(m, kind)]


async def until(check: Callable[[], object], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


def started(asr: AsrOptions | None = None, tts: TtsOptions | None = None) -> SessionStarted:
    return SessionStarted("s1", 1, None, asr or AsrOptions(), tts or TtsOptions(), AudioInputOptions())


def utterance(seconds: float = 1.6) -> AudioSamples:
    return AudioSamples(np.concatenate([speechlike(seconds), np.zeros(RATE, np.float32)]), RATE)


class Harness:
    def __init__(self, engine: FakeEngine, **server: object) -> None:
        self.engine = engine
        self.out = ListOutbox()
        config = load_config({}, {"server": server} if server else {})
        self.session = Session("s1", engine, config, self.out)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Harness:
        self.task = asyncio.create_task(self.session.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def test_audio_in_speech_and_a_final_out() -> None:
    async with Harness(FakeEngine()) as h:
        h.session.handle(started())
        h.session.handle(utterance())
        await until(lambda: h.out.of(Final))
    speech = h.out.of(Speech)
    assert [(s.event, s.utterance) for s in speech] == [("start", 1), ("end", 1)]
    final = h.out.of(Final)[0]
    assert final.utterance == 1 and final.text.startswith("hello world")


async def test_configure_applies_from_the_next_utterance() -> None:
    engine = FakeEngine()
    async with Harness(engine) as h:
        h.session.handle(started())
        first = utterance()
        h.session.handle(AudioSamples(first.samples[: RATE], RATE))  # speech has started: utterance 1 is open
        await until(lambda: h.out.of(Speech))
        h.session.handle(OptionsChanged(AsrOptions(language="es", task="translate"), TtsOptions()))
        h.session.handle(AudioSamples(first.samples[RATE:], RATE))
        await until(lambda: h.out.of(Final))
        before = [r for _, r in engine.decoded]
        h.session.handle(utterance())
        await until(lambda: len(h.out.of(Final)) == 2)
    after = [r for _, r in engine.decoded][len(before):]
    finals = h.out.of(Final)
    assert [f.utterance for f in finals] == [1, 2]
    assert before and {(r.language, r.task) for r in before} == {(None, "transcribe")}  # the open one kept its options
    assert after and {(r.language, r.task) for r in after} == {("es", "translate")}
    assert finals[0].language == "en" and finals[1].language == "es"  # the fake answers in the language asked for
    assert finals[1].start_s > finals[0].end_s  # one session time line across the change
    speech = h.out.of(Speech)
    assert [s.utterance for s in speech] == [1, 1, 2, 2]


async def test_configure_between_utterances_applies_at_once_and_selects_the_model() -> None:
    engine = FakeEngine(asr_models=frozenset({"whisper-base", "whisper-tiny.en"}))
    async with Harness(engine) as h:
        h.session.handle(started())
        h.session.handle(OptionsChanged(AsrOptions(model="whisper-tiny.en", end_of_speech_ms=300), TtsOptions()))
        h.session.handle(utterance())
        h.session.handle(AudioEnded(None))
        await until(lambda: h.out.of(Final))
    assert {model for model, _ in engine.decoded} == {"whisper-tiny.en"}
    assert h.session.asr is not None and h.session.asr.stream.options.end_of_speech_ms == 300


async def test_text_in_audio_then_done_out_and_voice_changes_from_the_next_chunk() -> None:
    engine = FakeEngine(ms_per_char=5.0)
    async with Harness(engine) as h:
        h.session.handle(started(tts=TtsOptions(voice="af_heart")))
        h.session.handle(TextReceived(1, "Hello there, this is the first sentence. ", False))
        await until(lambda: h.out.of(TtsAudio))
        h.session.handle(OptionsChanged(AsrOptions(), TtsOptions(voice="am_adam", speed=1.5)))
        h.session.handle(TextReceived(1, "And this one is the second.", True))
        await until(lambda: h.out.of(TtsDone))
    assert engine.spoken[0] == ("af_heart", 1.0) and engine.spoken[-1] == ("am_adam", 1.5)
    audio = h.out.of(TtsAudio)
    assert [a.seq for a in audio] == list(range(len(audio)))
    assert h.out.of(TtsDone)[0].status == "complete"
    assert h.out.messages[-1] == h.out.of(TtsDone)[0]  # nothing of the turn follows its tts_done


async def test_cancel_ends_the_turn_and_purges_its_audio() -> None:
    async with Harness(FakeEngine(ms_per_char=80.0)) as h:
        h.session.handle(started())
        h.session.handle(TextReceived(1, "A long reply that keeps going. " * 6, True))
        await until(lambda: h.out.of(TtsAudio))
        h.session.handle(CancelRequested(None))
        await until(lambda: h.out.of(TtsDone))
        await asyncio.sleep(0.1)
    done = h.out.of(TtsDone)
    assert [d.status for d in done] == ["cancelled"] and h.out.purged == [1]
    assert h.out.messages[-1] is done[0]


@pytest.mark.timeout(30)
async def test_a_session_stopped_in_the_same_moment_as_a_cancel_ends() -> None:
    """The turn's task and the session's are cancelled in one tick (a barge-in as the socket closes)."""
    h = Harness(FakeEngine(ms_per_char=80.0))
    async with h:
        h.session.handle(started())
        h.session.handle(TextReceived(1, "A long reply that keeps going. " * 6, True))
        await until(lambda: h.out.of(TtsAudio))
        assert h.session.tts is not None and h.task is not None
        turn_task = h.session.tts._order[0].task
        assert turn_task is not None
        h.session.handle(CancelRequested(None))
        while not turn_task.done():  # one loop step at a time: the pipeline has not seen it yet
            await asyncio.sleep(0)
        h.task.cancel()
        await asyncio.wait_for(asyncio.gather(h.task, return_exceptions=True), timeout=5)
    assert h.task.done() and [d.status for d in h.out.of(TtsDone)] == ["cancelled"]


@pytest.mark.parametrize("barge_in", [True, False])
async def test_barge_in_policy_decides_whether_speech_stops_the_reply(barge_in: bool) -> None:
    async with Harness(FakeEngine(ms_per_char=80.0), vad_barge_in=barge_in) as h:
        h.session.handle(started())
        h.session.handle(TextReceived(1, "A long reply that keeps going. " * 6, True))
        await until(lambda: h.out.of(TtsAudio))
        h.session.handle(utterance())
        await until(lambda: h.out.of(Final))
    done = h.out.of(TtsDone)
    assert ([d.status for d in done] == ["cancelled"]) is barge_in
    assert h.session.barge_in.barge_ins == (1 if barge_in else 0)


def test_barge_in_policy_alone() -> None:
    stops: list[int] = []
    off = BargeIn(False, lambda: stops.append(1))
    assert off.speech_started() is False and stops == []
    on = BargeIn(True, lambda: stops.append(1))
    assert on.speech_started() is True and on.speech_started() is True
    assert stops == [1, 1] and on.barge_ins == 2


def test_router_leaves_lifecycle_events_to_the_session() -> None:
    assert route(ClientBye("bye"), None, None) is False
    assert route(started(), None, None) is False
    assert route(TextReceived(1, "hi", True), None, None) is True  # a pipeline event, dropped without a pipeline


async def test_an_english_only_model_keeps_english_whatever_is_configured() -> None:
    class EnglishOnly(FakeEngine):
        def asr_capabilities(self, model: str | None = None) -> Capabilities | None:
            return Capabilities(sample_rate=RATE, languages=("en",) if model == "tiny.en" else ())

    engine = EnglishOnly(asr_models=frozenset({"base", "tiny.en"}))
    async with Harness(engine) as h:
        h.session.handle(started(asr=AsrOptions(model="base")))
        h.session.handle(OptionsChanged(AsrOptions(model="tiny.en", language="es", task="translate"), TtsOptions()))
        h.session.handle(utterance())
        await until(lambda: h.out.of(Final))
    assert {(m, r.language, r.task) for m, r in engine.decoded} == {("tiny.en", "en", "transcribe")}
