"""The server fixtures of tests/server, for the self-hearing test over a real WebSocket."""

from tests.server.conftest import start_server

__all__ = ["start_server"]
