"""Hallucination guard: Whisper invents text for silence, noise and its own loops.

Rules, applied per decoded segment before any word can reach a partial or final:
- no speech: ``no_speech_prob`` above 0.6 with ``avg_logprob`` below -1.0 (Whisper's own rule);
- gibberish loops: ``compression_ratio`` above 2.4;
- runaway repetition: a 1..4-word group repeated more than 3 times back to back, or a longer
  phrase repeated at all, is kept once (greedy decoding without temperature fallback loops);
- restarts: a segment that ends by repeating its own first 3+ words loses that tail;
- known silence phrases ("Thanks for watching", subtitle credits, "[Music]"); the ambiguous
  short ones ("Thank you", "you") only when the model was unsure.
The VAD already keeps silence from being decoded at all. Pure functions.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from streamvoice.asr.backend import Segment
from streamvoice.asr.events import Word
from streamvoice.asr.merge import word_key

NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
MAX_COMPRESSION_RATIO = 2.4
MAX_REPEATS = 3  # a group may appear this many times in a row before the rest is cut

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
    if segment.compression_ratio > MAX_COMPRESSION_RATIO:
        return True
    if _BRACKETED.match(segment.text):
        return True
    phrase = _phrase(segment.text)
    if phrase in SILENCE_PHRASES:
        return True
    return phrase in AMBIGUOUS_PHRASES and (segment.no_speech_prob > 0.2 or segment.avg_logprob < -0.7)


def cut_repetition(words: Sequence[Word], max_repeats: int = MAX_REPEATS) -> list[Word]:
    """Keep one copy of a 1..4-word group repeated more than ``max_repeats`` times in a row, or
    of a longer group (5..20 words, a looped phrase or sentence) repeated at all."""
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
            allowed = max_repeats if n <= 4 else 1
            if reps > allowed:
                del out[i + n : i + reps * n]
                del keys[i + n : i + reps * n]
                break
        i += 1
    return out


def cut_restart(words: Sequence[Word]) -> list[Word]:
    """Drop a tail that restarts the segment ("A B C D E. A B C"): Whisper's loop after speech ends."""
    keys = [word_key(w.word) for w in words]
    for k in range(len(keys) // 2, 2, -1):
        if keys[-k:] == keys[:k]:
            return list(words[:-k])
    return list(words)


def guard_segments(segments: Sequence[Segment]) -> list[Segment]:
    """Segments that survive the guard, with runaway repetition cut from their words."""
    kept: list[Segment] = []
    for seg in segments:
        if is_hallucination(seg):
            continue
        words = cut_restart(cut_repetition(seg.words))
        if len(words) != len(seg.words):
            seg = dataclasses.replace(seg, words=tuple(words), text=" ".join(w.word for w in words))
        kept.append(seg)
    return kept
