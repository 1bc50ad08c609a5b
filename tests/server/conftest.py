"""Servers on loopback port 0 for the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from streamvoice.config import Config, load_config
from streamvoice.engine.fake import FakeEngine
from streamvoice.server.app import Server

ServerFactory = Callable[..., Any]


def make_config(**server: Any) -> Config:
    return load_config({}, {"server": {"port": 0, **server}})


@pytest.fixture
async def start_server() -> AsyncIterator[ServerFactory]:
    """``await start_server(engine=..., **server_config)`` -> a started Server (stopped after the test)."""
    started: list[Server] = []

    async def factory(engine: Any = None, config: Config | None = None, **server: Any) -> Server:
        srv = Server(config or make_config(**server), engine or FakeEngine())
        await srv.start()
        started.append(srv)
        return srv

    yield factory
    for srv in started:
        await srv.stop(2.0)


def url(server: Server) -> str:
    return f"ws://127.0.0.1:{server.port}/v1/stream"
