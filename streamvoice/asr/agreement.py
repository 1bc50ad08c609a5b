"""LocalAgreement-2: commit the words two consecutive hypotheses agree on.

Each re-decode of the growing utterance yields a hypothesis. Words after the committed prefix
that the previous hypothesis also had, in the same order from the start, are committed and never
change again within the utterance; the rest is the unstable tail shown in partials. The shape
follows whisper_streaming's HypothesisBuffer; the overlap handling lives in :mod:`merge`.
Pure, plain data.
"""

from __future__ import annotations

from collections.abc import Sequence

from streamvoice.asr.events import Word
from streamvoice.asr.merge import new_words_after, word_key


class LocalAgreement:
    """Committed words plus the last unconfirmed tail of one utterance."""

    def __init__(self) -> None:
        self.committed: list[Word] = []
        self.tail: list[Word] = []  # the latest hypothesis beyond the committed words

    def insert(self, hypothesis: Sequence[Word]) -> list[Word]:
        """Add a hypothesis (stream-time words); returns the words newly committed."""
        new = new_words_after(self.committed, hypothesis)
        agreed = 0
        for old, fresh in zip(self.tail, new, strict=False):
            if word_key(old.word) != word_key(fresh.word):
                break
            agreed += 1
        newly = new[:agreed]
        self.committed.extend(newly)
        self.tail = new[agreed:]
        return newly

    def finish(self, hypothesis: Sequence[Word] | None) -> list[Word]:
        """The utterance ended: commit the final hypothesis (or the last tail when None)."""
        new = list(self.tail) if hypothesis is None else new_words_after(self.committed, hypothesis)
        self.committed.extend(new)
        self.tail = []
        return new

    def commit_until(self, time_s: float) -> list[Word]:
        """Force-commit tail words ending by ``time_s`` (the window must slide past them)."""
        n = 0
        while n < len(self.tail) and self.tail[n].end_s <= time_s:
            n += 1
        newly, self.tail = self.tail[:n], self.tail[n:]
        self.committed.extend(newly)
        return newly
