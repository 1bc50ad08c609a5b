"""Which words of the previous final a new utterance is decoded after (pure).

A new utterance after a short pause, or after a length cut in unpaused speech, used to be
decoded cold: its window began at the first voiced frame, and Whisper guessed from a weak first
syllable ("And the line of" for "underlying our" on an earnings call; "that" heard as "at" after
a cut). Offline decoding of the whole recording hears what came before. So the window of a new
utterance starts at the previous final's last words, forced as the decode's prefix: the model
hears the speech it continues, and, being forced, cannot say those words again.
"""

from __future__ import annotations

from collections.abc import Sequence

from streamvoice.asr.events import Word

CARRY_S = 2.5  # seconds of the previous final's words put before a new utterance
CARRY_GAP_S = 1.5  # only when the new speech starts this soon after them


def carried_words(previous: Sequence[Word], start_s: float, audio_start_s: float) -> tuple[Word, ...]:
    """The previous final's words that start within ``CARRY_S`` before ``start_s`` (the new
    utterance's start), if the last of them ends at most ``CARRY_GAP_S`` before it and their audio
    is still held (from ``audio_start_s``); else none."""
    if not previous or not 0.0 <= start_s - previous[-1].end_s <= CARRY_GAP_S:
        return ()
    first = len(previous)
    while first > 0 and previous[first - 1].start_s >= start_s - CARRY_S:
        first -= 1
    carry = tuple(previous[first:])
    if not carry or carry[0].start_s - 0.05 < audio_start_s:
        return ()
    return carry
