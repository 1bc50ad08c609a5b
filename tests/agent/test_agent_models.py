"""The LLM agent end to end with the real models: speech in over a WebSocket, the scripted reply
spoken back, what the LLM was sent, and an interrupted reply leaving only what was heard."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from bench.llm_stub import FakeLlm
from streamvoice.asr.backend import DecodeRequest
from streamvoice.audio.resample import resample
from streamvoice.client import connect
from streamvoice.config import Config, load_config
from streamvoice.engine.engine import load_engine
from streamvoice.protocol import Final, TtsAudio, TtsDone
from tests.server.conftest import url
from tests.server.test_server_models import clip, stream_file, words

pytestmark = pytest.mark.models

REPLY = ["The printing ", "press changed ", "everything. ", "Books became cheap ", "and common."]


def agent_config(models_dir: Path, llm_url: str) -> Config:
    return load_config({}, {"models": {"dir": str(models_dir)}, "asr": {"model": "whisper-tiny.en", "language": "en"},
                            "server": {"port": 0},
                            "agent": {"kind": "llm", "llm_url": llm_url, "llm_model": "fake"}})


@pytest.fixture(scope="module")
def engine(models_dir: Path):  # type: ignore[no-untyped-def]
    eng = load_engine(load_config({}, {"models": {"dir": str(models_dir)},
                                       "asr": {"model": "whisper-tiny.en", "language": "en"}}))
    yield eng
    eng.close()


async def test_a_spoken_question_comes_back_as_speech_of_the_llms_reply(  # type: ignore[no-untyped-def]
        start_server, engine, models_dir, data_dir, references) -> None:
    async with FakeLlm(replies=[REPLY], first_token_s=0.15, tokens_per_s=30) as llm:
        srv = await start_server(engine=engine, config=agent_config(models_dir, llm.url))
        if not engine.tts_ready:
            pytest.skip("TTS model not loadable here")
        async with connect(url(srv), credits="instant") as s:
            sender = asyncio.create_task(stream_file(s, clip(data_dir, "LJ001-0004.wav")))
            finals: list[Final] = []
            chunks: list[TtsAudio] = []
            async with asyncio.timeout(120):
                while True:
                    m = await s.recv()
                    if isinstance(m, Final):
                        finals.append(m)
                    elif isinstance(m, TtsAudio):
                        chunks.append(m)
                    elif isinstance(m, TtsDone):
                        assert m.status == "complete" and m.heard_text
                        break
            await sender
    # the LLM got the transcript as the user's turn
    sent = llm.requests[0]
    assert sent["stream"] is True and sent["model"] == "fake"
    assert sent["messages"][-1] == {"role": "user", "content": finals[0].text.strip()}
    assert len(words(references["LJ001-0004.wav"]) & words(sent["messages"][-1]["content"])) >= 5
    # every chunk of the reply is its text, in order, and the audio says it
    assert " ".join(c.text for c in chunks if c.text).split() == "".join(REPLY).split()
    rate = chunks[0].sample_rate
    audio = np.frombuffer(b"".join(c.data for c in chunks), "<i2").astype(np.float32) / 32768
    backend = engine.asr_backend()
    assert backend is not None
    request = DecodeRequest(resample(audio, rate, 16000), 0.0, "", "en", "transcribe", False, "final")
    heard = words(" ".join(seg.text for seg in backend.decode(request).segments))
    said = {"printing", "press", "changed", "everything", "books", "became", "cheap", "and", "common"}
    assert len(said & heard) >= 7, heard


async def test_a_cancelled_reply_tells_the_client_and_the_llm_what_was_heard(  # type: ignore[no-untyped-def]
        start_server, engine, models_dir, data_dir) -> None:
    long = ["The first part of this answer is long enough to interrupt. "] * 3
    async with FakeLlm(replies=[long, ["Fine."]]) as llm:
        srv = await start_server(engine=engine, config=agent_config(models_dir, llm.url))
        if not engine.tts_ready:
            pytest.skip("TTS model not loadable here")
        async with connect(url(srv)) as s:
            speech = clip(data_dir, "LJ001-0004.wav")
            await stream_file(s, speech)
            reply_words = []
            async with asyncio.timeout(120):
                while True:  # let at least two words play, then interrupt
                    m = await s.recv()
                    if isinstance(m, TtsAudio):
                        reply_words += m.words or []
                        if len(reply_words) >= 4 and m.offset_ms >= 1500:
                            break
            await s.flow(m.turn, 1000)  # the client played one second
            await s.cancel()
            async with asyncio.timeout(30):
                while not isinstance(m := await s.recv(), TtsDone):
                    pass
            assert m.status == "cancelled" and m.played_ms == 1000
            heard = [w.word for w in reply_words if w.end_ms <= 1000]
            assert heard and m.heard_words == len(heard) and m.heard_text == " ".join(heard)
            await stream_file(s, speech)  # the next turn carries the history
            async with asyncio.timeout(120):
                while len(llm.requests) < 2:
                    await asyncio.sleep(0.05)
    assert llm.requests[1]["messages"][1] == {"role": "assistant", "content": m.heard_text}
