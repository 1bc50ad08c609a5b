"""The page's protocol.js, in headless Chromium, against the protocol's golden vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser_support import REPO, chromium_args

pytestmark = pytest.mark.browser


def test_protocol_js_passes_golden_vectors(chromium: Path, static_site: str) -> None:
    from playwright.sync_api import sync_playwright

    vectors = json.loads((REPO / "protocol" / "vectors" / "vectors.json").read_text())
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=chromium_args(None))
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{static_site}/vectors.html")
            page.wait_for_function("typeof window.runVectors === 'function'", timeout=15_000)
            report = page.evaluate("(doc) => window.runVectors(doc)", vectors)
        finally:
            browser.close()
    assert not errors, errors
    assert report["total"] == len(vectors["vectors"]) > 80
    assert report["failures"] == []
    assert report["passed"] == report["total"]
