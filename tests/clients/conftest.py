"""Fixtures for the client tests: system Chromium through Playwright, the web page's files, clips."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from browser_support import CHROMIUM, WEB_ROOT


def _missing(reason: str) -> None:
    """Skip locally; in CI (STREAMVOICE_REQUIRE_MODELS=1) a missing part is a failure."""
    if os.environ.get("STREAMVOICE_REQUIRE_MODELS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def web_root() -> Path:
    if not (WEB_ROOT / "node_modules" / "@msgpack" / "msgpack" / "package.json").is_file():
        _missing(f"npm packages of {WEB_ROOT} are not installed: run `make web`")
    return WEB_ROOT


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.is_file():
        _missing(f"{CHROMIUM} not found: install Debian's chromium (`make sysdeps`)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the Python package playwright is not installed: `pip install -e '.[dev]'`")
    return CHROMIUM


class _Handler(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
    }

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture(scope="session")
def static_site(web_root: Path) -> Iterator[str]:
    """clients/web served over HTTP (for tests that need the page but not the server)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(web_root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
