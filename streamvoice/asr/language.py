"""The language a stream decodes in: detected from enough speech, then held for the session.

Whisper's language detection on half a second of accented English says Welsh, Korean or French
often enough to ruin a transcript, and a language chosen per window flips mid-sentence. So:

- a fixed ``language`` is used as given;
- ``auto`` detects on every decode until one detection over at least ``settle_s`` of audio and
  ``settle_words`` words is at least ``settle_probability`` sure, then the session holds that
  language. Until then no word is committed (partials show the hypothesis as unstable), so words
  of a wrong guess are never promised. Only a *full* detection (on Whisper's 30 s encoder
  width, which costs a wider encode) can settle; shorter partial windows get a quick detection
  for display, and a full one is tried at most once per second of new audio;
- a held language switches only when a final decode over at least ``switch_s`` of audio detects
  another language with ``switch_probability`` or more (the backend screens with a quick detection
  and confirms a disagreement with a full one), and then from the next utterance on:
  never in the middle of an utterance whose words are committed. ``lock`` forbids switching;
- ``languages`` restricts every detection to a set (probabilities renormalised over it).

Pure, plain data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SCREEN_PROBABILITY = 0.8  # a backend's quick detection of another language this sure is worth confirming
UNSURE_DETECTION = 0.75  # below: a backend decodes in the two likeliest languages and keeps the likelier text


def rank_languages(ranked: Sequence[tuple[str, float]], allowed: tuple[str, ...]) -> list[tuple[str, float]]:
    """Detected ``(code, probability)`` pairs (Whisper's ``<|en|>`` tokens or plain codes), best
    first; with ``allowed``, only those codes, probabilities renormalised over them."""
    pairs = sorted(((token.strip("<|>"), float(p)) for token, p in ranked), key=lambda pair: -pair[1])
    if not allowed:
        return pairs
    pairs = [(code, p) for code, p in pairs if code in allowed] or [(allowed[0], 0.0)]
    total = sum(p for _, p in pairs)
    return [(code, p / total if total > 0 else 0.0) for code, p in pairs]


@dataclass(frozen=True, slots=True)
class LanguageRules:
    fixed: str | None = None  # an ISO code, or None for auto
    languages: tuple[str, ...] = ()  # detection restricted to these (empty: any)
    lock: bool = False  # once settled, never switch
    settle_s: float = 2.5  # audio a detection needs before it may settle the session language
    settle_probability: float = 0.75  # and how sure it must be (among ``languages``)
    settle_words: int = 4  # and how many words it heard (a window of noise before "Fue" said English)
    switch_s: float = 3.0  # audio a final's detection needs to switch a settled language
    switch_probability: float = 0.95  # and how sure


class LanguagePolicy:
    """Which language to decode in and whether words may be committed yet (see module docstring)."""

    def __init__(self, rules: LanguageRules) -> None:
        self.rules = rules
        self.language: str | None = rules.fixed  # the session's language once settled
        self.probability = 1.0 if rules.fixed else 0.0
        self._last_full_s = 0.0  # audio length of this utterance's last full detection

    @property
    def settled(self) -> bool:
        return self.language is not None

    def decode_language(self) -> str | None:
        """The language to decode in, or None to detect and decode in the detected language."""
        return self.language

    def detection(self, kind: str, audio_s: float) -> str:
        """How a decode of ``audio_s`` seconds should detect: "none" (decode in the held language),
        "quick" (detect on the shortened window: display only), "full" (detect reliably), or
        "check" (decode in the held language; detect fully only if the decode was unsure).
        Asking for a "full" one counts as trying it (it is not offered again for a second)."""
        if self.rules.fixed:
            return "none"
        if not self.settled:
            due = audio_s >= self.rules.settle_s and audio_s >= self._last_full_s + 1.0
            if kind == "final" or due:
                self._last_full_s = audio_s if kind != "final" else 0.0
                return "full"
            return "quick"
        if kind == "final" and not self.rules.lock and audio_s >= self.rules.switch_s:
            return "check"
        return "none"

    def new_utterance(self) -> None:
        """A new utterance starts: its window is short again."""
        self._last_full_s = 0.0

    def observe(self, detected: str, probability: float, audio_s: float, kind: str, reliable: bool = True,
                words: int = 0) -> None:
        """Learn from a decode's detection (call only when detection ran; quick ones are not reliable).
        ``words``: how many words the decode heard."""
        if self.rules.fixed or not reliable:
            return
        if not self.settled:  # short utterances are decoded in their own detected language meanwhile
            enough = audio_s >= self.rules.settle_s and words >= self.rules.settle_words
            if enough and probability >= self.rules.settle_probability:
                self.language, self.probability = detected, probability
            return
        if (
            kind == "final"
            and not self.rules.lock
            and detected != self.language
            and audio_s >= self.rules.switch_s
            and probability >= self.rules.switch_probability
        ):
            self.language, self.probability = detected, probability  # from the next utterance on
