"""The server and `say` share one framing path: same text in, the same samples out (real Kokoro)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from streamvoice.client import connect
from streamvoice.config import load_config
from streamvoice.engine.engine import load_engine
from streamvoice.protocol import TtsAudio, TtsDone
from streamvoice.tts.driver import SpeechDriver
from streamvoice.tts.frames import DEFAULT_FADE_MS
from streamvoice.tts.g2p import Phonemizer
from tests.server.conftest import url

pytestmark = pytest.mark.models

DELTAS = ["Sure, ", "I ", "can ", "help ", "you ", "with ", "that ", "right ", "away. ",
          "Dr. Smith ", "paid ", "$3.50 ", "at ", "10:30 a.m."]


async def _server_samples(start_server, engine, config) -> tuple[np.ndarray, list[str]]:  # type: ignore[no-untyped-def]
    srv = await start_server(engine=engine, config=config)

    async def deltas() -> AsyncIterator[str]:
        for piece in DELTAS:
            yield piece

    data: list[bytes] = []
    texts: list[str] = []
    async with connect(url(srv), credits="instant") as s:
        await s.say_stream(deltas())
        async with asyncio.timeout(120):
            while not isinstance(m := await s.recv(), TtsDone):
                if isinstance(m, TtsAudio):
                    data.append(m.data)
                    texts += [m.text] if m.text else []
    assert m.status == "complete"
    return np.frombuffer(b"".join(data), "<i2"), texts


async def test_server_and_say_produce_the_same_samples(start_server, models_dir: Path) -> None:  # type: ignore[no-untyped-def]
    config = load_config({}, {"models": {"dir": str(models_dir)}, "server": {"port": 0}})
    engine = load_engine(config, asr=False)
    try:
        backend = engine.tts_backend
        if backend is None:
            pytest.skip("TTS model not loadable here")
        server, server_texts = await _server_samples(start_server, engine, config)
        driver = SpeechDriver(backend, Phonemizer("en-us"), config.tts.voice)
        batches = await asyncio.to_thread(lambda: list(driver.speak(iter(DELTAS))))
    finally:
        engine.close()
    say = np.frombuffer(b"".join(f.pcm for b in batches for f in b.frames), "<i2")
    say_texts = [b.text for b in batches]
    assert server_texts == say_texts == ["Sure,", "I can help you", "with that right away.",
                                         "Dr. Smith paid $3.50 at 10:30 a.m."]
    assert server.size == say.size > 24_000 * 3
    assert np.array_equal(server, say)
    # every chunk join is faded: the samples either side of each join are near silence
    join = 0
    fade = int(24_000 * DEFAULT_FADE_MS / 1000)
    for b in batches[:-1]:
        join += sum(f.samples for f in b.frames)
        assert np.abs(server[join - 2 : join + 2]).max() < 200, join
        assert np.abs(server[join - fade : join]).max() <= np.abs(server[join - 4 * fade : join - fade]).max()
