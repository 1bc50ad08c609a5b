"""Hallucination guard: Whisper invents text for silence and noise, and loops at window ends.

Rules, applied per decoded segment before any word can reach a partial or final:
- no speech: ``no_speech_prob`` above 0.6 with ``avg_logprob`` below -1.0 (Whisper's own rule);
- known silence phrases ("Thanks for watching", subtitle credits, "[Music]"); the ambiguous
  short ones ("Thank you", "you") only when the model was unsure;
- loops, judged by evidence and not by text: a repeated group (or a segment that restarts its
  own first words) is cut only where the repeats took implausibly little audio (aligned words
  under ``MIN_WORD_S`` on average: the decoder ran on past the speech). A speaker who says
  "two two two two two" gives each "two" its own stretch of audio, and keeps every one;
- restarts across the commit boundary: a decode forced to continue committed words that says
  their last three or more different words again is restarting a sentence the commit cut (a
  period where the speaker went on), whatever audio the repeat was aligned to.
Backends already re-decode loops and guesses (``streamvoice.asr.fallback``); this is the last
line. The VAD keeps silence from being decoded at all. Pure functions.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from streamvoice.asr.backend import Segment
from streamvoice.asr.events import Word
from streamvoice.asr.merge import word_key
from streamvoice.textnorm import normalize

NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
RESTART_MIN_WORDS = 3  # a group of this many different words said again after the commit is a restart
MIN_WORD_S = 0.06  # a repeat whose words average less audio than this was not spoken
UNHEARD_P = 0.1  # a final's last words below this probability were added to silence, not heard

SILENCE_PHRASES = frozenset(
    {
        "thanks for watching",
        "thank you for watching",
        "thank you so much for watching",
        "thanks for watching and see you next time",
        "please subscribe",
        "please like and subscribe",
        "subscribe to my channel",
        "subtitles by the amara org community",
        "subtitles by the amaraorg community",
        "untertitel der amara org community",
        "untertitelung des zdf 2020",
        "sous titrage st' 501",
        "amara org",
        "music",
        "applause",
        "silence",
        "blank_audio",
    }
)
AMBIGUOUS_PHRASES = frozenset({"you", "thank you", "bye", "so", "okay", "thanks", "oh"})
_BRACKETED = re.compile(r"^\s*([\[(*♪].*[\])*♪]\s*)+$")


def _phrase(text: str) -> str:
    return " ".join(word_key(w) for w in text.split() if word_key(w))


def is_hallucination(segment: Segment) -> bool:
    """True when the whole segment should be dropped."""
    if segment.no_speech_prob > NO_SPEECH_PROB and segment.avg_logprob < LOW_LOGPROB:
        return True
    if _BRACKETED.match(segment.text):
        return True
    phrase = _phrase(segment.text)
    if phrase in SILENCE_PHRASES:
        return True
    return phrase in AMBIGUOUS_PHRASES and (segment.no_speech_prob > 0.2 or segment.avg_logprob < -0.7)


def _spoken(words: Sequence[Word]) -> bool:
    """Did these words take audio to say? (Loops pile up at the window's end with no duration.)"""
    if not words:
        return True
    return sum(w.end_s - w.start_s for w in words) / len(words) >= MIN_WORD_S


def cut_repetition(words: Sequence[Word], protect: int = 0) -> list[Word]:
    """Cut the repeats of a 1..20-word group repeated back to back from the first repeat that
    took no audio to say; spoken repeats stay, however many. The first ``protect`` words (text
    already committed, given as context) are never cut."""
    out = list(words)
    keys = [word_key(w.word) for w in out]
    i = 0
    while i < len(out):
        for n in range(1, 21):
            group = keys[i : i + n]
            if len(group) < n:
                break
            reps = 1
            while keys[i + reps * n : i + (reps + 1) * n] == group:
                reps += 1
            first_unspoken = next((r for r in range(1, reps) if not _spoken(out[i + r * n : i + (r + 1) * n])), None)
            if first_unspoken is not None and i + first_unspoken * n >= protect:
                del out[i + first_unspoken * n : i + reps * n]
                del keys[i + first_unspoken * n : i + reps * n]
                break
        i += 1
    return out


def cut_restart(words: Sequence[Word]) -> list[Word]:
    """Drop a tail that restarts the segment ("A B C D E. A B C") when it took no audio to say."""
    keys = [word_key(w.word) for w in words]
    for k in range(len(keys) // 2, 2, -1):
        if keys[-k:] == keys[:k] and not _spoken(words[-k:]):
            return list(words[:-k])
    return list(words)


def _said(word: str) -> str:
    """The word as said ("St." and "Saint", "6" and "six" compare equal)."""
    return normalize(word) or word_key(word)


def cut_boundary_restart(before: Sequence[Word], words: Sequence[Word]) -> list[Word]:
    """Drop the first words of a decode that follows committed words when they say the committed
    words' last group again ("…Saint Dennis, the Irish Church." then "St. Dennis, the Irish
    Church, became…"): the decoder restarts a sentence the commit ended with a period. Only groups
    of at least three different words: a speaker's "eight eight eight" keeps every one."""
    said_before = [_said(w.word) for w in before[-20:]]
    said = [_said(w.word) for w in words[:20]]
    for n in range(min(len(said_before), len(said)), RESTART_MIN_WORDS - 1, -1):
        group = said[:n]
        if group == said_before[-n:] and len(set(group)) >= RESTART_MIN_WORDS:
            return list(words[n:])
    return list(words)


def cut_unheard_tail(words: Sequence[Word]) -> list[Word]:
    """Drop the last words of a final that the model itself barely believed (probability under
    ``UNHEARD_P``): at the end of the audio Whisper adds a word to the silence ("...of Columbus.
    The" with p 0.01 on Common Voice clips with trailing silence). A real last word, even a
    misheard one, is rarely below it."""
    end = len(words)
    while end > 0 and words[end - 1].probability < UNHEARD_P:
        end -= 1
    return list(words[:end])


def guard_segments(segments: Sequence[Segment], before: Sequence[Word] = ()) -> list[Segment]:
    """Segments that survive the guard, with loops cut from their words. ``before``: the words
    committed before these (a decode forced to start after them may loop back over them)."""
    kept: list[Segment] = []
    context = list(before[-20:])
    for seg in segments:
        if is_hallucination(seg):
            continue
        words = cut_boundary_restart(context, seg.words)
        words = cut_repetition([*context, *words], protect=len(context))[len(context):]
        words = cut_restart(words)
        if len(words) != len(seg.words):
            seg = dataclasses.replace(seg, words=tuple(words), text=" ".join(w.word for w in words))
        kept.append(seg)
        context = [*context, *words][-20:]
    return kept
