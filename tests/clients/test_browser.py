"""The caption page in headless Chromium against the real server with the real models.

Chromium's fake microphone plays a real clip; the page must show a final caption with the
expected words, the echo mode must play the spoken reply (measured by the player worklet in
the page), and a screenshot is saved to test-artifacts/caption-page.png.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import REPO, artifacts_dir, chromium_args, write_capture_wav

pytestmark = [pytest.mark.browser, pytest.mark.models, pytest.mark.slow]

START_TIMEOUT_S = 90.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _unavailable(reason: str) -> None:
    if os.environ.get("STREAMVOICE_REQUIRE_MODELS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def live_server(models_dir: Path, web_root: Path, tmp_path: Path) -> Iterator[str]:
    """`streamvoice serve` on a free port, serving the page; yields its http:// base URL."""
    port = _free_port()
    log = (tmp_path / "server.log").open("w+")
    env = {**os.environ, "STREAMVOICE_MODELS": str(models_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamvoice", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                log.seek(0)
                output = log.read()
                if "not built yet" in output:
                    _unavailable(f"the server is not built yet: {output.strip()}")
                pytest.fail(f"streamvoice serve exited with {process.returncode}:\n{output}")
            try:
                with urllib.request.urlopen(f"{base}/", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamvoice serve did not answer on {base}/ within {START_TIMEOUT_S:.0f} s")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_captions_and_echo_in_browser(
    chromium: Path, live_server: str, data_dir: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    fake_mic = write_capture_wav(data_dir / "LJ001-0004.wav", tmp_path / "mic.wav")
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=chromium_args(fake_mic))
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 720})
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.goto(f"{live_server}/")
            # the voice field lists the server's voices (GET /v1/voices), not a hand-picked few
            page.wait_for_function("document.querySelectorAll('#voice option').length >= 50", timeout=30_000)
            page.select_option("#voice", "am_adam")
            page.select_option("#language", "en")
            page.check("#echo")
            page.get_by_role("button", name="Start captioning").click()
            page.wait_for_function("window.streamvoice.stats.state === 'ready'", timeout=30_000)
            page.wait_for_function(
                "window.streamvoice.stats.finals.some(t => /block books/i.test(t) && /printed/i.test(t))",
                timeout=120_000,
            )
            # echo: the final is spoken back; the player worklet counts the samples it played
            page.wait_for_function(
                "window.streamvoice.stats.playedSamples > 0.5 * window.streamvoice.stats.playbackRate",
                timeout=120_000,
            )
            # barge-in by hand: playback stops at once and late audio of the turn is dropped
            page.get_by_role("button", name="Stop voice").click()
            page.wait_for_timeout(300)
            played_at_stop = page.evaluate("window.streamvoice.stats.playedSamples")
            page.wait_for_timeout(1500)
            stats = page.evaluate("window.streamvoice.stats")
            caption = page.locator("#captions li").first.inner_text()
            print("page stats:", stats)
            page.screenshot(path=str(artifacts_dir() / "caption-page.png"), full_page=True)
        finally:
            browser.close()
    assert not problems, problems
    assert "block books" in caption.lower(), caption
    assert stats["ttsChunks"] > 0 and stats["framesSent"] > 100, stats
    assert stats["errors"] == [], stats["errors"]
    assert stats["bargeIns"] == 1
    assert stats["playedSamples"] == played_at_stop, "speech kept playing after Stop voice"
