"""/readyz turns 200 only after the engine's warm-up has run (fake engine, real sockets)."""

from __future__ import annotations

import asyncio

from streamvoice.engine.fake import FakeEngine
from streamvoice.server.app import Server
from tests.server.conftest import make_config
from tests.server.test_server_fake_engine import http_get


class SlowWarmEngine(FakeEngine):
    """A fake engine whose warm-up waits until the test lets it finish."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.warmed = 0

    async def warm_up(self) -> dict[str, float]:
        await self.release.wait()
        self.warmed += 1
        return {"tts:en-us": 0.0, "asr": 0.0}


async def test_readyz_waits_for_the_warm_up() -> None:
    engine = SlowWarmEngine()
    srv = Server(make_config(), engine)
    starting = asyncio.create_task(srv.start())
    loop = asyncio.get_running_loop()
    try:
        while srv._ws is None:  # listening, still warming
            await asyncio.sleep(0.01)
        status, body = await loop.run_in_executor(None, http_get, srv.port, "/readyz")
        assert (status, body) == (503, "loading\n")
        assert (await loop.run_in_executor(None, http_get, srv.port, "/healthz"))[0] == 200
        engine.release.set()
        await starting
        assert engine.warmed == 1
        status, _ = await loop.run_in_executor(None, http_get, srv.port, "/readyz")
        assert status == 200
    finally:
        engine.release.set()
        await starting
        await srv.stop(2.0)
