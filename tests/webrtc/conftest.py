"""The WebRTC tests start real servers on loopback (the server tests' fixture) and call them with aiortc."""

from __future__ import annotations

from tests.server.conftest import make_config, start_server

__all__ = ["make_config", "start_server"]
