"""English text -> what a reader says aloud, before G2P.

Why: misaki reads most plain numbers and currency well, but spells every all-capital word
("HIM" as H-I-M), reads "Henry VIII" as letters, "Main St." as "saint", "10:30" with a colon
pause, "March 5" as "five" and "https://" letter by letter. Each rule below rewrites one kind of
written form into words; rules run in a fixed order (URLs before numbers, currency before plain
numbers, capitals last). Numbers become words through num2words. Whether an all-capital word is
an English word or an acronym is decided with a word list (misaki's gold and silver lexicons by
default, injectable for tests). Digits become words in :mod:`streamvoice.tts.spoken_numbers`.
Pure: no I/O beyond reading that word list once.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from streamvoice.tts import spoken_numbers as spoken
from streamvoice.tts.spoken_numbers import number, word_set, words


@dataclass(frozen=True, slots=True)
class WordList:
    """Lower-case dictionary words, and the all-capital entries that have their own reading."""

    words: frozenset[str]
    acronyms: frozenset[str]  # e.g. NASA, NATO (read as words), US, IT (context-dependent)
    spelled: frozenset[str] = frozenset()  # read otherwise than the word they spell: AI (A-I), never lowered

    def is_word(self, word: str) -> bool:
        """Whether a lower-case word (or a regular inflection of one) is in the dictionary."""
        w = word.lower().replace("’", "'")
        if w in self.words:
            return True
        if w.endswith("'s") and w[:-2] in self.words:
            return True
        stems: list[str] = []
        if w.endswith("s"):
            stems += [w[:-1], w[:-2] if w.endswith("es") else "", w[:-3] + "y" if w.endswith("ies") else ""]
        if w.endswith("ed"):
            stems += [w[:-2], w[:-1], w[:-3] if len(w) > 4 and w[-3] == w[-4] else "",
                      w[:-3] + "y" if w.endswith("ied") else ""]
        if w.endswith("ing"):
            stems += [w[:-3], w[:-3] + "e", w[:-4] if len(w) > 5 and w[-4] == w[-5] else ""]
        return any(len(s) > 1 and s in self.words for s in stems)


@functools.cache
def misaki_words(british: bool = False) -> WordList:
    """misaki's gold + silver lexicons (the ones its G2P reads from) as a :class:`WordList`."""
    from importlib import resources

    from misaki import data

    entries: dict[str, object] = {}
    for kind in ("silver", "gold"):  # gold wins, as in misaki
        name = f"{'gb' if british else 'us'}_{kind}.json"
        with resources.files(data).joinpath(name).open(encoding="utf-8") as handle:
            entries.update(json.load(handle))
    words = frozenset(k for k in entries if k.islower() and k.replace("'", "").replace("-", "").isalpha())
    acronyms = frozenset(k for k in entries if len(k) > 1 and k.isupper() and k.isalpha())
    spelled = frozenset(k for k in acronyms if isinstance(entries[k], str) and entries[k] != entries.get(k.lower()))
    return WordList(words, acronyms, spelled)


# -- URLs and e-mail -----------------------------------------------------------------------------

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"]*[^\s<>\".,;:!?)\]]", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")


def _spell_address(text: str) -> str:
    """example.com/docs -> example dot com slash docs."""
    out = re.sub(r"^(?:https?://)?(?:www\.)?", "", text, flags=re.IGNORECASE)
    for symbol, word in ((".", " dot "), ("/", " slash "), ("@", " at "), ("-", " dash "), ("_", " underscore "),
                         ("?", " question mark "), ("=", " equals "), ("&", " and "), ("+", " plus ")):
        out = out.replace(symbol, word)
    return " ".join(number(w) if w.isdigit() else w for w in out.split())


def _addresses(text: str) -> str:
    text = _EMAIL.sub(lambda m: _spell_address(m.group()), text)
    return _URL.sub(lambda m: _spell_address(m.group()), text)


# -- Roman numerals after names ------------------------------------------------------------------

_REGNAL = word_set(
    "Henry Edward George William Richard Charles James John Louis Elizabeth Mary Anne Victoria Philip "
    "Peter Catherine Frederick Alexander Nicholas Paul Pius Leo Benedict Gregory Innocent Clement "
    "Urban Boniface Ramesses Ptolemy Napoleon Ludwig Otto Gustav Carl Christian Olaf Harald Haakon "
    "Juan Felipe Alfonso Ferdinand Francis Joseph Constantine Justinian Wilhelm Frederik Rama Selim "
    "Mehmed Murad Ivan Vasily"
)
_CARDINAL_BEFORE = word_set(
    "War Part Chapter Episode Phase Volume Act Book Type Class Level Stage Grade Title Article "
    "Section Apollo Gemini Vatican Rocky"
)
_ROMAN = re.compile(r"\b([A-Z][a-z]+)\s+((?=[IVXL])L?X{0,3}(?:IX|IV|V?I{0,3}))\b(?!['’]?\w)")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50}


def _roman_value(numeral: str) -> int:
    total = 0
    for i, ch in enumerate(numeral):
        value = _ROMAN_VALUES[ch]
        nxt = _ROMAN_VALUES[numeral[i + 1]] if i + 1 < len(numeral) else 0
        total += -value if value < nxt else value
    return total


def _roman(m: re.Match[str]) -> str:
    name, numeral = m.group(1), m.group(2)
    if not numeral:
        return m.group()
    if name in _CARDINAL_BEFORE:
        return f"{name} {words(_roman_value(numeral))}"
    if len(numeral) > 1 or (name in _REGNAL and (numeral != "I" or _regnal_i(m))):
        return f"{name} the {words(_roman_value(numeral), 'ordinal')}"
    return m.group()


def _regnal_i(m: re.Match[str]) -> bool:
    """"Elizabeth I ruled", "Henry I." but not "then Paul I think": after I, a pronoun's verbs are likely."""
    rest = m.string[m.end():].lstrip()
    nxt = rest.split(" ", 1)[0].strip(".,;:!?\"'’”)").lower()
    return not rest or not rest[0].isalpha() or nxt in _AFTER_REGNAL_I


_AFTER_REGNAL_I = word_set("of and or was had ruled reigned died became who whose married built founded")


# -- abbreviations --------------------------------------------------------------------------------

_TITLES = {"Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Prof": "Professor", "Gen": "General",
           "Capt": "Captain", "Lt": "Lieutenant", "Sgt": "Sergeant", "Col": "Colonel", "Gov": "Governor",
           "Sen": "Senator", "Rep": "Representative", "Rev": "Reverend", "Mt": "Mount", "Ft": "Fort"}
_AFTER_NAME = {"Jr": "Junior", "Sr": "Senior", "Ave": "Avenue", "Blvd": "Boulevard", "Rd": "Road",
               "Ln": "Lane", "Inc": "Incorporated", "Ltd": "Limited", "Corp": "Corporation", "Co": "Company",
               "Dept": "Department"}
_LATIN = {"e.g.": "for example", "i.e.": "that is", "etc.": "et cetera", "vs.": "versus", "vs": "versus",
          "approx.": "approximately", "a.k.a.": "also known as", "cf.": "compare"}
_TITLE = re.compile(r"\b(" + "|".join(_TITLES) + r")\.(?=\s+[A-Z])")
_DR_ST = re.compile(r"(\b[A-Z][a-z]+\s+)?\b(Dr|St)\.(\s+[A-Z])?")
_SUFFIX = re.compile(r"(?<=[A-Za-z],|[A-Za-z] )\s*\b(" + "|".join(_AFTER_NAME) + r")\.")
_LATIN_RE = re.compile(r"(?<!\w)(" + "|".join(re.escape(k) for k in _LATIN) + r")(?=\s|$|[,;:!?)])", re.IGNORECASE)
_NUMBER_SIGN = re.compile(r"\b(?:No|Nos)\.\s?(?=\d)|#(?=\d)")


def _ends_sentence(m: re.Match[str]) -> str:
    """The period of an expanded abbreviation stays only where a sentence may end after it."""
    rest = m.string[m.end():].lstrip()
    return "." if not rest or rest[0].isupper() or rest[0] in "\"”'’)" else ""


def _dr_st(m: re.Match[str]) -> str:
    before, abbr, after = m.group(1) or "", m.group(2), m.group(3) or ""
    if after and not before:  # before a name: "Dr. Smith", "St. Louis"
        return f"{'Doctor' if abbr == 'Dr' else 'Saint'}{after}"
    after_name = {"Dr": "Drive", "St": "Street"}  # "Elm Dr.", "Main St."
    word = after_name[abbr] if before else {"Dr": "Doctor", "St": "Street"}[abbr]
    return f"{before}{word}{'.' if after else _ends_sentence(m)}{after}"


def _abbreviations(text: str) -> str:
    text = _LATIN_RE.sub(lambda m: _LATIN[m.group(1).lower()], text)
    text = _NUMBER_SIGN.sub("number ", text)
    text = _TITLE.sub(lambda m: _TITLES[m.group(1)], text)
    text = _DR_ST.sub(_dr_st, text)
    return _SUFFIX.sub(lambda m: " " + _AFTER_NAME[m.group(1)] + _ends_sentence(m), text)


# -- symbols ---------------------------------------------------------------------------------------

_SYMBOLS = [
    (re.compile(r"\s*&\s*"), " and "),
    (re.compile(r"(?<=\w)\s*\+\s*(?=\w)|(?<=\s)\+(?=\s)"), " plus "),
    (re.compile(r"(?<=\s)@(?=\s)|(?<=\w)\s*@\s*(?=\w)"), " at "),
    (re.compile(r"\s*%"), " percent"),
    (re.compile(r"(?<=\s)=(?=\s)"), "equals"),
    (re.compile(r"(?<=\w)\s*×\s*(?=\w)"), " times "),
    (re.compile(r"(?<!\w)~(?=\s?\w)"), "about "),
    (re.compile(r"(?<=[a-z])/(?=[a-z])"), " "),  # and/or, yes/no
]


def _symbols(text: str) -> str:
    for pattern, word in _SYMBOLS:
        text = pattern.sub(word, text)
    return text


# -- capitals ---------------------------------------------------------------------------------------

_CAPS = re.compile(r"(?<![\w'’])([A-Z]{2,}(?:['’][A-Z]+)?)(?![\w'’])")
_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?")


def _capitals(text: str, lexicon: WordList) -> str:
    """A run of capitals made of dictionary words is read as words; an acronym stays as written.

    "This is VERY important" -> "very"; "I told HIM" -> "him"; NASA, US, IT (misaki has their
    reading) stay when alone; FBI, API (no dictionary word) stay and are spelled by the G2P.
    """
    words = _WORD.findall(text)
    caps = [w for w in words if w.isupper() and (len(w) > 1 or w in ("I", "A"))]
    shouting = len(words) >= 3 and len(caps) >= 0.6 * len(words)

    def run_at(m: re.Match[str]) -> bool:
        before = _WORD.findall(text[: m.start()])[-1:]
        after = _WORD.findall(text[m.end():])[:1]
        return any(len(w) > 1 and w.isupper() for w in before + after)

    def fix(m: re.Match[str]) -> str:
        token = m.group(1)
        if not lexicon.is_word(token) or token in lexicon.spelled:
            return token
        if token in lexicon.acronyms and not (shouting or run_at(m)):
            return token  # "the US economy", "NASA": misaki knows how people say these
        lower = token.lower()
        head = text[: m.start()].rstrip()
        return lower.capitalize() if not head or head[-1] in ".!?\"“" else lower

    return _CAPS.sub(fix, text)


# -- the pipeline -------------------------------------------------------------------------------------

_RULES: tuple[Callable[[str], str], ...] = (
    _addresses,
    spoken.times,
    spoken.dates,
    spoken.money,
    spoken.percentages,
    spoken.units,
    spoken.ordinals,
    lambda t: _ROMAN.sub(_roman, t),
    _abbreviations,
    spoken.numbers,
    _symbols,
)


def normalize_text(text: str, lexicon: WordList | None = None) -> str:
    """The words a reader would say for ``text`` (English); punctuation that shapes prosody stays."""
    for rule in _RULES:
        text = rule(text)
    text = _capitals(text, lexicon if lexicon is not None else misaki_words())
    return " ".join(text.split())
