"""PROTOCOL §8.2 with the real Kokoro voice: a client that stops reading in the middle of a long reply.

The independent client (issue 16) saw close 1006 and no ``slow_consumer`` after a 45 s stall, with
megabytes of audio waiting: the kernel's autotuned send buffer took a minute of real-time audio, so
the server's writer never waited and ``max_unread_ms`` never started. Here a client that reads
nothing (small socket buffer, nothing read ahead) asks for a long reply: what waits for it in the
server (lanes + writer) stays under ``ready.limits.max_queued_bytes`` and what the kernel holds under
the capped send buffer; the session becomes a slow consumer, synthesis stops, and the late reader
still gets ``error`` ``slow_consumer`` then close 4008.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.rawws import RawWs
from streamvoice.engine.engine import load_engine
from streamvoice.runtime.wire import WireSession
from streamvoice.server.app import SEND_BUFFER_BYTES
from tests.server.test_server_models import models_config
from tests.server.test_slow_and_oversized import kernel_unsent

pytestmark = pytest.mark.models

# about 80 s of speech: far more than the socket buffers and the audio lead hold
REPLY = " ".join(["The quick brown fox jumps over the lazy dog near the quiet river bank."] * 20)


@pytest.fixture(scope="module")
def engine(models_dir: Path) -> Iterator[Any]:
    eng = load_engine(models_config(models_dir))
    yield eng
    eng.close()


async def test_a_client_that_stops_reading_mid_reply(start_server, engine, models_dir) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(engine=engine, config=models_config(models_dir, slow_client_timeout_s=2.0))
    calls = 0
    real_synthesize = engine.synthesize

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return await real_synthesize(*args, **kwargs)

    engine.synthesize = counting
    try:
        ws = await RawWs.open(srv.port, rcvbuf=4096, read_limit=1024)
        # 48 kHz float: 192 kB per second of speech, so the buffers fill in seconds even on a loaded machine
        await ws.send_msg({"type": "hello", "tts": {"sample_rate": 48000, "encoding": "pcm_f32le"}})
        ready = await ws.read_message()
        assert isinstance(ready, dict) and ready["type"] == "ready"
        limits: dict[str, int] = ready["limits"]  # type: ignore[assignment]
        assert limits["max_unread_ms"] == 2000 and limits["max_queued_bytes"] == 2 << 20
        await ws.send_msg({"type": "text", "text": REPLY, "final": True})
        session = next(s for s in srv.sessions.values() if isinstance(s, WireSession))
        loop = asyncio.get_running_loop()
        started, held, kernel = loop.time(), 0, 0
        while srv.metrics.value("streamvoice_errors_total", code="slow_consumer") < 1:  # we read nothing
            held = max(held, session.lanes.bytes + session.transport.buffered())
            kernel = max(kernel, kernel_unsent(session))
            assert loop.time() - started < 60, f"no slow_consumer after 60 s of not reading ({calls} chunks made)"
            await asyncio.sleep(0.05)
        stalled_s = loop.time() - started
        assert held <= limits["max_queued_bytes"], held  # held for the client in the process: as announced
        assert kernel <= 4 * SEND_BUFFER_BYTES, kernel  # in the kernel: twice the request, one segment over
        made = calls
        assert session.lanes.bytes == 0  # the unsent messages are dropped
        await asyncio.sleep(3.0)
        assert calls == made, "synthesis went on for a client that is not reading"
        assert made < 20, f"{made} chunks synthesized for a client that read nothing for {stalled_s:.1f} s"
        got, close = await ws.until_close(30)  # the client reads late
        assert got, "nothing for the late reader"
        assert {m["type"] for m in got[:-1]} <= {"tts_audio", "tts_done"}
        assert (got[-1]["type"], got[-1]["code"], got[-1]["fatal"]) == ("error", "slow_consumer", True)
        assert close == (4008, "slow_consumer")
        await ws.close()
    finally:
        del engine.synthesize  # the instance attribute: the class's method again
