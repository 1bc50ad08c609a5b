"""The agent inside a session: finals in, replies spoken, what was heard kept (fake engine, real HTTP)."""

from __future__ import annotations

import asyncio
from typing import Any

from bench.llm_stub import FakeLlm
from streamvoice.config import load_config
from streamvoice.engine.fake import FakeEngine
from streamvoice.protocol.messages import ErrorMessage, Final, TtsAudio, TtsDone
from streamvoice.runtime.events import CancelRequested, FlowReported
from streamvoice.runtime.session import Session
from tests.runtime.test_pipelines import ListOutbox, started, until, utterance

SCRIPT = ["Sure", "! The sky ", "is blue. ", "Anything else?"]


class AgentHarness:
    """A session whose agent is configured as given, run until the test ends."""

    def __init__(self, engine: FakeEngine, **agent: Any) -> None:
        self.engine = engine
        self.out = ListOutbox()
        config = load_config({}, {"agent": agent, "server": {"max_audio_lead_ms": 600}})
        self.session = Session("s1", engine, config, self.out)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AgentHarness:
        self.task = asyncio.create_task(self.session.run())
        self.session.handle(started())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    def done(self, turn: int) -> TtsDone | None:
        return next((m for m in self.out.of(TtsDone) if m.turn == turn), None)


async def test_a_final_becomes_the_llms_streamed_reply_and_the_history_grows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    prompt = tmp_path / "system.txt"
    prompt.write_text("You are terse.\n")
    async with FakeLlm(replies=[SCRIPT, ["Bye."]]) as llm:
        agent = {"kind": "llm", "llm_url": llm.url, "llm_model": "tiny", "system_prompt_file": str(prompt),
                 "api_key": "sk-test"}
        async with AgentHarness(FakeEngine(), **agent) as h:
            h.session.handle(utterance())
            await until(lambda: h.done(1) is not None)
            final = h.out.of(Final)[0]
            assert h.done(1).status == "complete"  # type: ignore[union-attr]
            spoken = "".join(m.text for m in h.out.of(TtsAudio) if m.turn == 1)
            assert spoken.replace(" ", "") == "".join(SCRIPT).replace(" ", "")  # every delta spoken, in order
            h.session.handle(utterance())
            await until(lambda: h.done(2) is not None)
    first, second = llm.requests
    assert first["model"] == "tiny" and first["stream"] is True
    assert first["messages"] == [{"role": "system", "content": "You are terse."},
                                 {"role": "user", "content": final.text.strip()}]
    assert second["messages"][2] == {"role": "assistant", "content": "".join(SCRIPT).strip()}
    assert second["messages"][3]["role"] == "user"
    assert llm.headers[0]["authorization"] == "Bearer sk-test"


async def test_a_cancelled_reply_leaves_only_the_heard_words_in_the_history() -> None:
    long = ["One two three four five six. ", "Seven eight nine ten eleven twelve. ",
            "Thirteen fourteen fifteen sixteen."]
    async with FakeLlm(replies=[long, ["Fine."]]) as llm, AgentHarness(
        FakeEngine(ms_per_char=60), kind="llm", llm_url=llm.url, llm_model="m"
    ) as h:
        h.session.handle(utterance())
        await until(lambda: any(m.turn == 1 and m.offset_ms >= 900 for m in h.out.of(TtsAudio)))
        h.session.handle(FlowReported(1, 700, None))  # the client played 700 ms of the reply
        h.session.handle(CancelRequested(None))
        await until(lambda: h.done(1) is not None)
        done = h.done(1)
        assert done is not None and done.status == "cancelled" and done.played_ms == 700
        words = [w for m in h.out.of(TtsAudio) if m.turn == 1 for w in (m.words or [])]
        heard = [w.word for w in words if w.end_ms <= 700]
        assert heard and len(heard) < len(words)
        assert (done.heard_words, done.heard_text) == (len(heard), " ".join(heard))
        h.session.handle(utterance())
        await until(lambda: len(llm.requests) == 2)
    assert llm.requests[1]["messages"][1] == {"role": "assistant", "content": done.heard_text}


async def test_llm_failures_reach_the_client_as_errors_and_the_turn_ends() -> None:
    async with FakeLlm(status=503) as llm, AgentHarness(FakeEngine(), kind="llm", llm_url=llm.url,
                                                        llm_model="m") as h:
        h.session.handle(utterance())
        await until(lambda: h.done(1) is not None)
        error = h.out.of(ErrorMessage)[0]
        assert error.code == "agent_failed" and not error.fatal and "HTTP 503" in error.message
        assert "overloaded" in error.message
    async with FakeLlm(hang=True) as llm, AgentHarness(FakeEngine(), kind="llm", llm_url=llm.url,
                                                       llm_model="m", timeout_s=0.3) as h:
        h.session.handle(utterance())
        await until(lambda: h.done(1) is not None)
        assert "within 0.3 s" in h.out.of(ErrorMessage)[0].message
    async with FakeLlm() as llm:
        closed = llm.url  # nothing listens there once the server is gone
    async with AgentHarness(FakeEngine(), kind="llm", llm_url=closed, llm_model="m") as h:
        h.session.handle(utterance())
        await until(lambda: h.done(1) is not None)
        assert h.out.of(ErrorMessage)[0].code == "agent_failed"


async def test_a_stream_that_stops_midway_keeps_what_was_said() -> None:
    async with FakeLlm(replies=[["Half a sentence", " and"]]) as llm, AgentHarness(
        FakeEngine(), kind="llm", llm_url=llm.url, llm_model="m"
    ) as h:
        h.session.handle(utterance())
        await until(lambda: h.done(1) is not None)
        assert h.done(1).status == "complete"  # type: ignore[union-attr]
        assert "Half a sentence and" in "".join(m.text for m in h.out.of(TtsAudio))


def shout(text: str) -> str:
    """A callable agent for the test below (``--agent tests.agent.test_agent_session:shout``)."""
    return text.upper() + "!"


async def test_echo_and_callable_agents() -> None:
    for kind, expect in (("echo", str.strip), ("tests.agent.test_agent_session:shout", lambda t: t.strip().upper())):
        async with AgentHarness(FakeEngine(), kind=kind) as h:
            h.session.handle(utterance())
            await until(lambda: h.done(1) is not None)
            final = h.out.of(Final)[0]
            spoken = "".join(m.text for m in h.out.of(TtsAudio))
            assert spoken.startswith(expect(final.text)), (kind, spoken)
