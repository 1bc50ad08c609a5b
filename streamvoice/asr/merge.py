"""Overlap merge: which words of a new hypothesis come after the words already committed.

A re-decoded window starts before the end of the committed text (the overlap, or simply the
whole utterance so far), so the hypothesis repeats committed words. They are removed first by
time (words starting well before the committed end) and then by text: if the head of what is
left repeats the committed tail (1..5 words), that head is dropped. Times alone would double a
word whose timestamp drifted; text alone would drop a genuinely repeated word ("no, no").
Pure functions, plain data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from streamvoice.asr.events import Word

_NON_WORD = re.compile(r"[^\w']+")


def word_key(word: str) -> str:
    """Comparison form of a word: lowercase, punctuation stripped."""
    return _NON_WORD.sub("", word.lower())


def new_words_after(
    committed: Sequence[Word],
    hypothesis: Sequence[Word],
    tolerance_s: float = 0.1,
    near_s: float = 1.0,
    max_ngram: int = 5,
) -> list[Word]:
    """The words of ``hypothesis`` that extend ``committed`` (neither lost nor doubled)."""
    words = [w for w in hypothesis if word_key(w.word)]
    if not committed:
        return words
    last_end = committed[-1].end_s
    tail = [w for w in words if w.start_s > last_end - tolerance_s]
    if not tail or abs(tail[0].start_s - last_end) > near_s:
        return tail
    committed_keys = [word_key(w.word) for w in committed[-max_ngram:]]
    tail_keys = [word_key(w.word) for w in tail[:max_ngram]]
    for n in range(min(len(committed_keys), len(tail_keys)), 0, -1):
        if committed_keys[-n:] == tail_keys[:n]:
            return tail[n:]
    return tail


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
