"""The server fixtures of tests/server, for the agent's end-to-end tests."""

from tests.server.conftest import start_server

__all__ = ["start_server"]
