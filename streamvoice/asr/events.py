"""What a streaming recognizer tells its owner: plain frozen data, no I/O.

Times are seconds of stream audio (16 kHz samples fed since the stream began / 16000).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Word:
    word: str  # the word as Whisper spelled it, leading space stripped
    start_s: float  # stream time the word starts
    end_s: float  # stream time the word ends
    probability: float  # Whisper's word probability, 0..1


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    utterance: int  # id of the utterance that begins, counting from 0 per stream
    time_s: float  # stream time VAD first heard speech (hangover/padding included)


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    utterance: int
    time_s: float  # stream time speech ended (before the end-of-speech silence)


@dataclass(frozen=True, slots=True)
class Partial:
    utterance: int
    revision: int  # increases by one with each partial of the utterance
    text: str  # stable_text + unstable tail
    stable_text: str  # committed prefix: never changes again within the utterance
    words: tuple[Word, ...]  # all words of `text`, committed first
    stable_count: int = 0  # how many of `words` are committed (the words of stable_text)


@dataclass(frozen=True, slots=True)
class Final:
    utterance: int
    text: str
    words: tuple[Word, ...]
    language: str  # ISO code detected or fixed
    language_probability: float  # 0..1 (1.0 when the language was fixed)
    start_s: float  # stream time of the first word (or speech start)
    end_s: float  # stream time of the last word (or speech end)
    reason: str  # "silence" | "audio_end" | "max_length" | "stream_end"


@dataclass(frozen=True, slots=True)
class EagerFinal:
    """The utterance has probably ended (a short silence, a stable hypothesis): an agent may start
    its reply now. The utterance stays open: its Final, or a TurnResumed, follows."""

    utterance: int
    text: str
    words: tuple[Word, ...]
    language: str
    language_probability: float
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class TurnResumed:
    """The user went on speaking after an EagerFinal of this utterance: it is withdrawn."""

    utterance: int
    time_s: float  # stream time the speech resumed (about)


AsrEvent = SpeechStarted | SpeechEnded | Partial | Final | EagerFinal | TurnResumed
