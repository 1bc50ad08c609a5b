"""Words as text: the comparison key of a word and the display text of a word sequence.

(Overlap merging is gone: decodes are forced to start with the committed words inside their
window, see :mod:`streamvoice.asr.agreement`, so there is nothing to merge.) Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from streamvoice.asr.events import Word

_NON_WORD = re.compile(r"[^\w'%$€£¥&@#+°]+")  # symbols that are said ("14%") are part of a word


def word_key(word: str) -> str:
    """Comparison form of a word: lowercase, punctuation stripped (spoken symbols such as % kept)."""
    return _NON_WORD.sub("", word.lower())


_ATTACH_BEFORE = ("'", "’", "-", ",", ".", "!", "?", ":", ";", "%")
_ATTACH_AFTER = ("'", "’", "-")


def join_words(words: Sequence[Word]) -> str:
    """Display text of words: spaces between them, except around elisions and hyphens
    ("d'" + "accord", "États" + "-Unis") where Whisper's tokens split a written word."""
    parts: list[str] = []
    for w in words:
        text = w.word.strip()
        if not text:
            continue
        if parts and not text.startswith(_ATTACH_BEFORE) and not parts[-1].endswith(_ATTACH_AFTER):
            parts.append(" ")
        parts.append(text)
    return "".join(parts)
