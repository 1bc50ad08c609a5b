"""A small English text normaliser and word error rate, shared by ASR tests and benchmarks.

Both sides of a WER comparison must go through the same :func:`normalize`: lowercase, punctuation
removed, hyphens split, a few abbreviations expanded, and numbers written as words (years such
as 1850 as "eighteen fifty"), so "20" and "twenty" count as the same word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_ABBREVIATIONS = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint", "vs": "versus"}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")  # 15th, 1st, 22nd: "fifteenth", not "fifteen th"
_DECADE = re.compile(r"(?<![\w.,])((?:\d\d)?\d0)'?s\b")  # the 1990s, mid-90s: "nineties"


def _decade_words(digits: str) -> str:
    """ "90" -> "nineties", "1990" -> "nineteen nineties"."""
    words = _number_words(digits)
    if words == digits:
        return digits + "s"
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def _number_words(token: str, to: str = "cardinal") -> str:
    try:
        from num2words import num2words
    except ImportError:  # keep digits; consistent on both sides either way
        return token
    plain = token.replace(",", "")
    try:
        if to == "ordinal":
            return str(num2words(int(plain), to="ordinal"))
        if "." in plain:
            return str(num2words(float(plain)))
        value = int(plain)
        if 1100 <= value <= 2099 and len(plain) == 4:
            return str(num2words(value, to="year"))
        return str(num2words(value))
    except (ValueError, OverflowError, NotImplementedError):
        return token


def normalize(text: str) -> str:
    """Lowercased words separated by single spaces, for comparing transcripts."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("’", "'").replace("%", " percent").replace("&", " and ")
    text = _ORDINAL.sub(lambda m: " " + _number_words(m.group(1), "ordinal") + " ", text)
    text = _DECADE.sub(lambda m: " " + _decade_words(m.group(1)) + " ", text)
    text = _NUMBER.sub(lambda m: " " + _number_words(m.group(0)) + " ", text)
    text = re.sub(r"[-‐–—/]", " ", text)
    text = re.sub(r"[^\w\s']", " ", text)
    text = re.sub(r"'(?!\w)|(?<!\w)'", " ", text)  # quotes, keep apostrophes inside words
    words = [_ABBREVIATIONS.get(w, w) for w in text.split()]
    return " ".join(words)


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance over words (substitutions + deletions + insertions)."""
    prev = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        cur = [i] + [0] * len(hypothesis)
        for j, hyp_word in enumerate(hypothesis, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ref_word != hyp_word))
        prev = cur
    return prev[-1]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(errors, reference word count) after normalising both; sum these for corpus WER."""
    ref = normalize(reference).split()
    hyp = normalize(hypothesis).split()
    return edit_distance(ref, hyp), len(ref)


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of one pair (errors / reference words; 0.0 for two empty texts)."""
    errors, n = word_errors(reference, hypothesis)
    if n == 0:
        return 0.0 if errors == 0 else float(errors)
    return errors / n
