"""When a decode has failed and must be redone hotter: Whisper's own quality thresholds.

Greedy decoding loops ("the the the …", a phrase over and over) or wanders when it is unsure.
Whisper's ``transcribe`` does not cut such text afterwards: it re-decodes the same audio at a
higher temperature and keeps the first result that passes, which is how offline decoding avoids
most loops. Besides Whisper's text statistics, a loop shows in the word times: the repeated
words are aligned to no audio at all, piled up at the end of the window. The rules here are
shared by every backend; each backend only runs the decodes.
Pure functions.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

MAX_COMPRESSION_RATIO = 2.4  # above: the text repeats itself (a loop)
MIN_AVG_LOGPROB = -1.0  # below: the model was guessing
NO_SPEECH_PROB = 0.6  # above (with a low logprob): silence, and no fallback can help
COLLAPSED_S = 0.02  # a word aligned to less than this took no audio: the decoder ran past the speech
MAX_COLLAPSED_WORDS = 2  # more collapsed words than this: the decode looped at the end of its audio
FINAL_TEMPERATURES = (0.2, 0.5, 0.8)  # tried in order after a failed temperature-0 decode
PARTIAL_TEMPERATURES = (0.4,)  # partials are redone at most once: they are cheap to get wrong


@dataclass(frozen=True, slots=True)
class Attempt:
    """One decode of a window: its text (after any forced prefix) and its statistics."""

    text: str
    avg_logprob: float
    no_speech_prob: float
    temperature: float
    collapsed_words: int = 0  # words the alignment gave (almost) no audio
    prefix: str = ""  # the forced committed words before ``text``: repeating them is a loop too

    @property
    def compression_ratio(self) -> float:
        return compression_ratio(self.text, self.prefix)


def compression_ratio(text: str, prefix: str = "") -> float:
    """Bytes of the text over the bytes it adds to a zlib compression: loops compress well.

    With a prefix, what counts is what the text adds after it, so a decode that says the
    committed sentence again ("X. X.") scores as the loop it is."""
    data = text.encode("utf-8")
    if not data:
        return 0.0
    if not prefix or len(data) < 10:  # a word or two adds too few bytes to judge
        return len(data) / len(zlib.compress(data))
    before = prefix.encode("utf-8") + b" "
    added = len(zlib.compress(before + data)) - len(zlib.compress(before))
    return len(data) / max(added, 1)


def with_timing(attempt: Attempt, spans: Sequence[tuple[float, float]]) -> Attempt:
    """The attempt with its word times counted in: words squeezed into no audio are loop evidence."""
    return replace(attempt, collapsed_words=sum(1 for start, end in spans if end - start < COLLAPSED_S))


def said_nothing(attempt: Attempt, words: int) -> bool:
    """Every new word was aligned to no audio: the decoder only ran on past the speech (typically
    repeating the forced prefix). Nothing was said, and no hotter decode will hear more."""
    return words > 0 and attempt.collapsed_words >= words


def is_silence(attempt: Attempt) -> bool:
    return attempt.no_speech_prob > NO_SPEECH_PROB and attempt.avg_logprob < MIN_AVG_LOGPROB


def needs_fallback(attempt: Attempt) -> bool:
    """True when the decode looped or guessed (and was not simply silence)."""
    if is_silence(attempt) or not attempt.text.strip():
        return False
    return (
        attempt.compression_ratio > MAX_COMPRESSION_RATIO
        or attempt.avg_logprob < MIN_AVG_LOGPROB
        or attempt.collapsed_words > MAX_COLLAPSED_WORDS
    )


def ladder(kind: str, full_window: bool) -> list[tuple[float, bool]]:
    """The decodes to try in order, as (temperature, at Whisper's full 30 s width).

    A final that fails on its shortened window is redone at the full width (shortened windows
    are what makes base loop at the end of the audio), then hotter. A partial stays on its own
    window: a full-width encode cost 2-4 s on 2 cores and held up every commit behind it
    (``bench.asr_latency``), and a partial is decoded again a moment later anyway.
    """
    if kind != "final":
        return [(0.0, False)] + [(t, False) for t in PARTIAL_TEMPERATURES]
    return [(0.0, False)] + ([] if full_window else [(0.0, True)]) + [(t, True) for t in FINAL_TEMPERATURES]


def best(attempts: Sequence[Attempt]) -> Attempt:
    """The attempt to keep when none passed: the most probable of those that do not loop (by
    time evidence first, then by text); the guard cuts what is left of a loop."""
    spoken = [a for a in attempts if a.collapsed_words <= MAX_COLLAPSED_WORDS] or [
        min(attempts, key=lambda a: a.collapsed_words)
    ]
    not_looping = [a for a in spoken if a.compression_ratio <= MAX_COMPRESSION_RATIO]
    return max(not_looping or spoken, key=lambda a: a.avg_logprob)
