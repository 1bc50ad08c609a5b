"""Terminal captions: the partial is redrawn in place, each final is printed on its own line."""

from __future__ import annotations

from typing import TextIO


class CaptionPrinter:
    def __init__(self, out: TextIO, live: bool) -> None:
        self._out = out
        self._live = live  # a terminal: redraw partials on one line; else print finals only
        self._partial_width = 0

    def partial(self, text: str) -> None:
        if not self._live:
            return
        line = f"… {text.strip()}"
        pad = max(0, self._partial_width - len(line))
        self._out.write("\r" + line + " " * pad)
        self._out.flush()
        self._partial_width = len(line)

    def final(self, text: str, start_s: float, end_s: float, language: str | None) -> None:
        if self._live and self._partial_width:
            self._out.write("\r" + " " * self._partial_width + "\r")
            self._partial_width = 0
        if not text.strip():
            return
        lang = f" {language}" if language else ""
        self._out.write(f"[{start_s:6.1f}–{end_s:6.1f}s{lang}] {text.strip()}\n")
        self._out.flush()

    def note(self, text: str) -> None:
        self.final("", 0, 0, None)
        self._out.write(f"streamvoice mic: {text}\n")
        self._out.flush()
