"""The caption page in WebRTC mode (PROTOCOL §13) in headless Chromium, against the real server and models.

Chromium's fake microphone plays a real clip on the call's audio track; the page must show the
clip's words as captions (decoded from the data channel), the echo mode's reply must come back as
sound on the server's track (its level measured in the page by an AnalyserNode), "Stop voice"
must silence a long typed reply (`cancel` on the data channel), and a refused offer must be shown
to the user. Screenshot: test-artifacts/caption-page-webrtc.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import artifacts_dir, chromium_args, write_capture_wav
from test_browser import live_server

from streamvoice.textnorm import normalize

pytestmark = [pytest.mark.browser, pytest.mark.models, pytest.mark.slow]

__all__ = ["live_server"]  # the fixture: `streamvoice serve` on a free port, serving the page

CLIP = "LJ001-0004.wav"
SAY = ("Speech comes back on the call as a real audio track, twenty milliseconds at a time. "
       "The page plays it through an audio element, and the server stops it at once when asked.")
STATS = "window.streamvoice.stats"


def _words(text: str) -> set[str]:
    return set(normalize(text).split())


def _wait(page: Any, condition: str, timeout_ms: int, what: str) -> None:
    """Wait for a JS condition; on timeout fail with what was awaited and the page's counters."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(condition, timeout=timeout_ms)
    except PlaywrightTimeout:
        pytest.fail(f"timed out after {timeout_ms / 1000:.0f} s waiting for {what}; page stats: {page.evaluate(STATS)}")


def test_webrtc_call_captions_and_reply_in_browser(
    chromium: Path, live_server: str, data_dir: Path, references: dict[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    fake_mic = write_capture_wav(data_dir / CLIP, tmp_path / "mic.wav", lead_s=2.0)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=chromium_args(fake_mic))
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 760})
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.goto(f"{live_server}/")
            page.wait_for_function("document.querySelectorAll('#voice option').length >= 50", timeout=30_000)
            page.select_option("#transport", "webrtc")  # the switch; ?transport=webrtc preselects it
            page.select_option("#language", "en")
            page.check("#echo")
            page.get_by_role("button", name="Start captioning").click()
            _wait(page, f"{STATS}.state === 'ready'", 30_000, "the call to be ready (data channel open)")
            # the server's track plays silence until there is something to say
            _wait(page, f"{STATS}.remoteMeasuredMs >= 1000", 10_000, "the server's track to be measured for 1 s")
            quiet = page.evaluate(STATS)
            # the final caption (the clip is one sentence), then its echo as speech on the track
            _wait(page, f"{STATS}.finals.some(t => t.trim())", 120_000, "a final caption")
            _wait(page, f"{STATS}.ttsTexts > 0 && {STATS}.remoteLoudMs >= 400", 120_000,
                  "the reply as sound on the track")
            speaking = page.evaluate(STATS)
            # the echo plays to its end, then the track is quiet again
            _wait(page, f"Object.keys({STATS}.turnsDone).length >= {STATS}.finals.filter(t => t.trim()).length",
                  120_000, "the echoed reply's tts_done")
            _wait(page, f"performance.now() - {STATS}.remoteLastLoudAt > 1000", 30_000, "silence after the reply")
            # a long text from the Speak box, stopped by hand: `cancel` on the data channel silences the track
            loud_before = page.evaluate(f"{STATS}.remoteLoudMs")
            page.fill("#say-text", SAY)
            page.get_by_role("button", name="Say", exact=True).click()
            _wait(page, f"{STATS}.remoteLoudMs >= {loud_before} + 400", 120_000, "the typed text as sound on the track")
            page.get_by_role("button", name="Stop voice").click()
            page.wait_for_timeout(4000)
            stats = page.evaluate(STATS)
            caption = page.locator("#captions li").first.inner_text()
            page.screenshot(path=str(artifacts_dir() / "caption-page-webrtc.png"), full_page=True)
            print("page stats:", stats)

            # a refused offer (an unknown voice in its hello) is shown to the user, not retried
            refused = browser.new_page()
            refused.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            refused.goto(f"{live_server}/?transport=webrtc")
            refused.wait_for_function("document.querySelectorAll('#voice option').length >= 50", timeout=30_000)
            refused.evaluate("document.querySelector('#voice').add(new Option('zz_nobody', 'zz_nobody', true, true))")
            refused.get_by_role("button", name="Start captioning").click()
            _wait(refused, f"{STATS}.state === 'error'", 30_000, "the refused offer to be shown")
            notice = refused.locator("#notice").inner_text()
            refused_stats = refused.evaluate(STATS)
            # the switch back: a known voice over a WebSocket connects
            refused.select_option("#voice", "af_heart")
            refused.select_option("#transport", "websocket")
            refused.get_by_role("button", name="Start captioning").click()
            _wait(refused, f"{STATS}.state === 'ready' && {STATS}.transport === 'websocket'", 30_000,
                  "a WebSocket session after switching back")
        finally:
            browser.close()
    assert not problems, problems
    assert stats["transport"] == "webrtc" and stats["framesSent"] == 0, "audio must go on the track, not as messages"
    assert stats["errors"] == [], stats["errors"]
    # captions: the clip's words, shown like the WebSocket mode shows them
    reference = _words(references[CLIP])
    heard = _words(" ".join(stats["finals"]))
    assert len(reference & heard) >= 0.8 * len(reference), (stats["finals"], references[CLIP])
    assert len(reference & _words(caption)) >= 0.8 * len(reference), caption
    # the reply: silence before it, sound while it plays, silence after Stop voice
    assert quiet["ttsTexts"] == 0 and quiet["remoteLoudMs"] == 0 and quiet["remotePeakRms"] < 0.01, quiet
    assert speaking["remotePeakRms"] > 0.03, speaking
    # Stop voice: the track falls silent once the receiver's jitter buffer has drained (0.2-1.2 s seen on a
    # loaded 2-core machine, where Chromium's buffer grows), while the rest of the text (about 8 s) would
    # have kept it loud to the end of the wait; the typed text's turn (the last) is cancelled, the echo's completed
    tail_ms = stats["remoteLastLoudAt"] - stats["bargeInAt"]
    print(f"last loud window {tail_ms:.0f} ms after the cancel")
    assert tail_ms <= 2000, f"the track kept speaking {tail_ms:.0f} ms after Stop voice"
    turns = {int(turn): status for turn, status in stats["turnsDone"].items()}
    assert turns[max(turns)] == "cancelled" and set(turns.values()) == {"complete", "cancelled"}, turns
    assert stats["bargeIns"] == 1
    # the refusal
    assert "unknown_voice" in notice and "refused" in notice, notice
    assert refused_stats["errors"] and refused_stats["state"] == "error", refused_stats
