"""A final that stops well before the speech did is decoded again without its forced prefix.

Forced to start with the committed words, Whisper sometimes ends the transcript early: on
earnings22 the final after "...operations over" said "17" and stopped, 1.5 s of voiced audio
before the end, while the same window without the prefix said "over 17 billion euros". The
evidence is the word times against the VAD's end of speech, not the text. The retry hears the
committed words again, so what it repeats of them is dropped before it is compared. Pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence

from streamvoice.asr.events import Word
from streamvoice.asr.merge import word_key

SHORT_BY_S = 1.0  # voiced audio after the last word beyond this: the decode stopped short
_OVERLAP_WORDS = 8  # the committed words a retry may repeat
_OVERLAP_SLACK_S = 1.0  # a repeated word lies this close to where it was committed
_LEAD_WORDS = 3  # words the retry may say before repeating the committed ones (a cut-off word, "And")
_FURTHER_BY_S = 0.3  # the retry is kept only if it reaches this much further into the speech


def stops_short(words: Sequence[Word], committed: Sequence[Word], speech_end_s: float | None) -> bool:
    """True when the final's last word (or the last committed one) ends long before the speech."""
    last = words[-1] if words else (committed[-1] if committed else None)
    if speech_end_s is None or last is None:
        return False
    return speech_end_s - last.end_s > SHORT_BY_S


def after_committed(words: Sequence[Word], committed: Sequence[Word]) -> list[Word]:
    """The retry's words after those already committed: the longest run of the last committed
    words that it repeats (by text, ending near the same time; after at most ``_LEAD_WORDS`` words
    of its own, "And himself arrived..." for "...himself arrived"), and what comes before; else
    every word that starts before the last committed one ended."""
    if not committed:
        return list(words)
    tail = committed[-_OVERLAP_WORDS:]
    keys = [word_key(w.word) for w in tail]
    new = [word_key(w.word) for w in words]
    for k in range(min(len(tail), len(words)), 0, -1):
        for lead in range(min(_LEAD_WORDS, len(words) - k) + 1):
            end = lead + k
            if new[lead:end] == keys[-k:] and abs(words[end - 1].end_s - tail[-1].end_s) <= _OVERLAP_SLACK_S:
                return list(words[end:])
    last_end = committed[-1].end_s
    return [w for w in words if w.start_s >= last_end]


def choose_final(first: Sequence[Word], retry: Sequence[Word]) -> list[Word]:
    """The retry's words if they reach clearly further into the speech, else the first decode's."""
    if not retry:
        return list(first)
    if not first or retry[-1].end_s > first[-1].end_s + _FURTHER_BY_S:
        return list(retry)
    return list(first)
