"""Eager end of turn: a reply starts on a short pause, is heard only once the end of speech is sure,
and is withdrawn unheard when the user goes on (fake engine, real HTTP LLM stub)."""

from __future__ import annotations

import asyncio

import numpy as np

from bench.llm_stub import FakeLlm
from streamvoice.config import load_config
from streamvoice.engine.fake import FakeEngine
from streamvoice.protocol.messages import Final, Speech, TtsAudio, TtsDone, TurnResumed
from streamvoice.runtime.events import AudioSamples
from streamvoice.runtime.session import Session
from tests.runtime.test_pipelines import ListOutbox, started, until
from tests.server.test_server_fake_engine import speechlike

RATE = 16000


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(RATE * seconds), np.float32)


async def feed(session: Session, *parts: np.ndarray) -> None:
    """Audio in 20 ms chunks, at about 10x real time (decodes keep up with the fake engine)."""
    audio = np.concatenate(parts)
    for i in range(0, len(audio), 320):
        session.handle(AudioSamples(audio[i : i + 320], RATE))
        await asyncio.sleep(0.002)


def eager_session(llm_url: str, out: ListOutbox) -> Session:
    config = load_config({}, {"asr": {"eager_ms": 240, "end_of_speech_ms": 600},
                              "agent": {"kind": "llm", "llm_url": llm_url, "llm_model": "m"}})
    return Session("s1", FakeEngine(asr_delay_s=0.01), config, out)


async def test_an_eager_final_starts_the_reply_which_is_heard_only_after_the_end_of_speech() -> None:
    out = ListOutbox()
    async with FakeLlm(replies=[["Yes, it is."]]) as llm:
        session = eager_session(llm.url, out)
        task = asyncio.create_task(session.run())
        session.handle(started())
        await feed(session, speechlike(1.6), silence(1.5))
        await until(lambda: any(isinstance(m, TtsDone) for m in out.messages))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    kinds = [(type(m).__name__, getattr(m, "eager", None)) for m in out.messages
             if isinstance(m, Final | Speech | TtsAudio | TurnResumed)]
    eager_at = kinds.index(("Final", True))
    end_at = next(i for i, m in enumerate(out.messages) if isinstance(m, Speech) and m.event == "end")
    first_audio = next(i for i, m in enumerate(out.messages) if isinstance(m, TtsAudio))
    assert eager_at < end_at < first_audio  # started early, heard only once the end of speech was sure
    assert ("TurnResumed", None) not in kinds
    assert len(llm.requests) == 1  # the utterance's final needed no second reply
    assert out.of(Final)[-1].eager is False and out.of(TtsDone)[0].status == "complete"


async def test_speech_after_an_eager_final_withdraws_the_reply_unheard() -> None:
    out = ListOutbox()
    async with FakeLlm(replies=[["First answer, never heard."], ["Second answer."]],
                       first_token_s=0.05) as llm:
        session = eager_session(llm.url, out)
        task = asyncio.create_task(session.run())
        session.handle(started())
        await feed(session, speechlike(1.6), silence(0.45), speechlike(1.2), silence(1.5))
        await until(lambda: any(isinstance(m, TtsDone) and m.status == "complete" for m in out.messages))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    eager = [m for m in out.of(Final) if m.eager]
    resumed = out.of(TurnResumed)
    assert eager and resumed and resumed[0].utterance == eager[0].utterance
    finals = [m for m in out.of(Final) if not m.eager]
    assert len(finals) == 1 and finals[0].utterance == eager[0].utterance  # one utterance, one final
    assert len(finals[0].text) > len(eager[0].text)  # it kept the words said after the pause
    withdrawn = [m for m in out.of(TtsDone) if m.status == "cancelled"]
    if withdrawn:  # the reply had reached the TTS: cancelled without a sample sent
        assert not [m for m in out.of(TtsAudio) if m.turn == withdrawn[0].turn]
        assert withdrawn[0].duration_ms == 0
    # the reply that was heard answers the whole utterance (an eager final after the last pause, or
    # the final), and the LLM was never told the withdrawn turn
    last = llm.requests[-1]["messages"]
    assert [m["role"] for m in last] == ["user"]
    assert last[0]["content"] in {m.text.strip() for m in out.of(Final) if m is not eager[0]}
