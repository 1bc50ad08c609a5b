"""A fresh server's first reply is as fast as its later ones: the warm-up ran every model (real models)."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import pytest

from streamvoice.client import connect
from streamvoice.config import load_config
from streamvoice.engine.engine import load_engine
from streamvoice.protocol import TtsAudio, TtsDone
from streamvoice.server.app import Server
from tests.server.conftest import url

pytestmark = pytest.mark.models


async def _first_audio_s(srv: Server, text: str) -> float:
    async with connect(url(srv), credits="instant") as s:
        t0 = time.perf_counter()
        await s.say(text)
        first = None
        async with asyncio.timeout(60):
            while not isinstance(m := await s.recv(), TtsDone):
                if isinstance(m, TtsAudio) and first is None:
                    first = time.perf_counter() - t0
        assert m.status == "complete" and first is not None
        return first


async def test_first_reply_after_start_is_warm(models_dir: Path) -> None:
    config = load_config({}, {"models": {"dir": str(models_dir)}, "server": {"port": 0},
                              "asr": {"model": "whisper-tiny.en", "language": "en"}})
    engine = await asyncio.to_thread(load_engine, config)
    srv = Server(config, engine)
    try:
        assert not srv.ready()
        await srv.start()
        assert srv.ready() and srv.warm
        text = "Thanks for waiting, the report is ready for you now."
        times = [await _first_audio_s(srv, text) for _ in range(4)]
    finally:
        await srv.stop(2.0)
        engine.close()
    first, later = times[0], statistics.median(times[1:])
    print("first audio per reply (s):", [round(t, 3) for t in times])
    assert first <= 1.5 * later + 0.15, times
