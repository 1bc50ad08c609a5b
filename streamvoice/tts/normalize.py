"""English text -> what a reader says aloud, before G2P.

Why: misaki reads most plain numbers and currency well, but spells every all-capital word
("HIM" as H-I-M), reads "Henry VIII" as letters, "Main St." as "saint", "10:30" with a colon
pause, "March 5" as "five" and "https://" letter by letter. Each rule below rewrites one kind of
written form into words; rules run in a fixed order (URLs before numbers, currency before plain
numbers, capitals last). Numbers become words through num2words. Whether an all-capital word is
an English word or an acronym is decided with a word list (misaki's gold and silver lexicons by
default, injectable for tests). Pure: no I/O beyond reading that word list once.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from num2words import num2words


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


# -- number words --------------------------------------------------------------------------------

def _words(value: int | float | str, to: str = "cardinal") -> str:
    """num2words without its commas (a comma makes Kokoro pause inside a number)."""
    return str(num2words(value, to=to)).replace(",", "")


def _number(text: str) -> str:
    """"1,234" -> one thousand two hundred and thirty-four; "3.14" -> three point one four."""
    plain = text.replace(",", "")
    negative = plain.startswith("-")
    plain = plain.lstrip("-")
    if "." in plain:
        whole, frac = plain.split(".", 1)
        out = _words(int(whole or "0")) + " point " + " ".join(_words(int(d)) for d in frac)
    else:
        out = _words(int(plain))
    return ("minus " if negative else "") + out


def _year(value: int) -> str:
    return _words(value, "year")


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"

# -- URLs and e-mail -----------------------------------------------------------------------------

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"]*[^\s<>\".,;:!?)\]]", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")


def _spell_address(text: str) -> str:
    """example.com/docs -> example dot com slash docs."""
    out = re.sub(r"^(?:https?://)?(?:www\.)?", "", text, flags=re.IGNORECASE)
    for symbol, word in ((".", " dot "), ("/", " slash "), ("@", " at "), ("-", " dash "), ("_", " underscore "),
                         ("?", " question mark "), ("=", " equals "), ("&", " and "), ("+", " plus ")):
        out = out.replace(symbol, word)
    return " ".join(_number(w) if w.isdigit() else w for w in out.split())


def _addresses(text: str) -> str:
    text = _EMAIL.sub(lambda m: _spell_address(m.group()), text)
    return _URL.sub(lambda m: _spell_address(m.group()), text)


# -- times and dates -----------------------------------------------------------------------------

_TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?(?:\s*([AaPp])\.?\s?[Mm]\b\.?)?")
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_MONTH_ABBR = {m[:3]: m for m in _MONTHS} | {"Sept": "September"}
_MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December|" \
         r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
_MONTH_DAY = re.compile(_MONTH + r"\s+([12]?\d|3[01])(?:st|nd|rd|th)?\b(?:,?\s+(\d{4})\b)?")
_DAY_MONTH = re.compile(r"\b([12]?\d|3[01])(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"(?:,?\s+(\d{4})\b)?")
_ISO_DATE = re.compile(r"\b(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")
_US_DATE = re.compile(r"\b(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])/(\d{4})\b")


def _time(m: re.Match[str]) -> str:
    hour, minute, half = int(m.group(1)), int(m.group(2)), m.group(3)
    suffix = f" {half.upper()}.M." if half else ""
    if minute == 0:
        return _words(hour) + (suffix or " o'clock")
    spoken = _words(minute) if minute >= 10 else "oh " + _words(minute)
    return f"{_words(hour)} {spoken}{suffix}"


def _month(name: str) -> str:
    return _MONTH_ABBR.get(name.rstrip("."), name.rstrip("."))


def _date(month: str, day: int, year: str | None) -> str:
    return f"{_month(month)} {_words(day, 'ordinal')}" + (f", {_year(int(year))}" if year else "")


def _dates(text: str) -> str:
    text = _ISO_DATE.sub(lambda m: _date(_MONTHS[int(m.group(2)) - 1], int(m.group(3)), m.group(1)), text)
    text = _US_DATE.sub(lambda m: _date(_MONTHS[int(m.group(1)) - 1], int(m.group(2)), m.group(3)), text)
    text = _MONTH_DAY.sub(lambda m: _date(m.group(1), int(m.group(2)), m.group(3)), text)
    return _DAY_MONTH.sub(
        lambda m: f"the {_words(int(m.group(1)), 'ordinal')} of {_month(m.group(2))}"
        + (f", {_year(int(m.group(3)))}" if m.group(3) else ""),
        text,
    )


# -- money, percentages, units, ordinals ---------------------------------------------------------

_CURRENCY = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
             "€": ("euro", "euros", "cent", "cents"), "¥": ("yen", "yen", "", "")}
_SCALES = {"k": "thousand", "thousand": "thousand", "m": "million", "mn": "million", "million": "million",
           "b": "billion", "bn": "billion", "billion": "billion", "trillion": "trillion", "t": "trillion"}
_MONEY = re.compile(r"([$£€¥])\s?(" + _NUM + r")(?:\s?(thousand|million|billion|trillion|[kKmMbBtT]n?)\b)?")


def _money(m: re.Match[str]) -> str:
    one, many, sub_one, sub_many = _CURRENCY[m.group(1)]
    amount, scale = m.group(2).replace(",", ""), m.group(3)
    if scale:
        return f"{_number(amount)} {_SCALES[scale.lower()]} {many}"
    whole_s, _, frac = amount.partition(".")
    whole = int(whole_s or "0")
    cents = int((frac + "0")[:2]) if frac and len(frac) <= 2 and sub_one else None
    if frac and cents is None:  # $1.005 or yen with decimals: read the number as written
        return f"{_number(amount)} {many}"
    parts = []
    if whole or not cents:
        parts.append(f"{_words(whole)} {one if whole == 1 else many}")
    if cents:
        parts.append(f"{_words(cents)} {sub_one if cents == 1 else sub_many}")
    return " and ".join(parts)


_PERCENT = re.compile(r"(?<![\w.])(-?(?:" + _NUM + r"))\s?%")
_UNITS: dict[str, tuple[str, str]] = {
    "km": ("kilometer", "kilometers"), "m": ("meter", "meters"), "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"), "kg": ("kilogram", "kilograms"), "g": ("gram", "grams"),
    "mg": ("milligram", "milligrams"), "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"), "mi": ("mile", "miles"), "ft": ("foot", "feet"),
    "mph": ("mile per hour", "miles per hour"), "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"), "°C": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"), "°": ("degree", "degrees"),
    "GB": ("gigabyte", "gigabytes"), "MB": ("megabyte", "megabytes"), "KB": ("kilobyte", "kilobytes"),
    "TB": ("terabyte", "terabytes"), "GHz": ("gigahertz", "gigahertz"), "MHz": ("megahertz", "megahertz"),
    "kHz": ("kilohertz", "kilohertz"), "Hz": ("hertz", "hertz"), "ms": ("millisecond", "milliseconds"),
    "sec": ("second", "seconds"), "min": ("minute", "minutes"), "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"), "kW": ("kilowatt", "kilowatts"), "kWh": ("kilowatt hour", "kilowatt hours"),
    "W": ("watt", "watts"), "V": ("volt", "volts"), "mAh": ("milliamp hour", "milliamp hours"),
    "L": ("liter", "liters"), "ml": ("milliliter", "milliliters"), "mL": ("milliliter", "milliliters"),
}
_UNIT = re.compile(
    r"(?<![\w.])(-?(?:" + _NUM + r"))\s?("
    + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
    + r")(?![\w/])"
)
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")


def _unit(m: re.Match[str]) -> str:
    one, many = _UNITS[m.group(2)]
    return f"{_number(m.group(1))} {one if m.group(1) in ('1', '-1') else many}"


# -- Roman numerals after names ------------------------------------------------------------------

_REGNAL = _set(
    "Henry Edward George William Richard Charles James John Louis Elizabeth Mary Anne Victoria Philip "
    "Peter Catherine Frederick Alexander Nicholas Paul Pius Leo Benedict Gregory Innocent Clement "
    "Urban Boniface Ramesses Ptolemy Napoleon Ludwig Otto Gustav Carl Christian Olaf Harald Haakon "
    "Juan Felipe Alfonso Ferdinand Francis Joseph Constantine Justinian Wilhelm Frederik Rama Selim "
    "Mehmed Murad Ivan Vasily"
)
_CARDINAL_BEFORE = _set(
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
        return f"{name} {_words(_roman_value(numeral))}"
    if len(numeral) > 1 or (name in _REGNAL and (numeral != "I" or _regnal_i(m))):
        return f"{name} the {_words(_roman_value(numeral), 'ordinal')}"
    return m.group()


def _regnal_i(m: re.Match[str]) -> bool:
    """"Elizabeth I ruled", "Henry I." but not "then Paul I think": after I, a pronoun's verbs are likely."""
    rest = m.string[m.end():].lstrip()
    nxt = rest.split(" ", 1)[0].strip(".,;:!?\"'’”)").lower()
    return not rest or not rest[0].isalpha() or nxt in _AFTER_REGNAL_I


_AFTER_REGNAL_I = _set("of and or was had ruled reigned died became who whose married built founded")


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


# -- years and plain numbers ---------------------------------------------------------------------

_DECADE = re.compile(r"\b(1[1-9]\d0|20[0-9]0)['’]?s\b")
_YEAR = re.compile(r"\b(1[1-9]\d\d|20\d\d)\b(?![.,]\d)(\s+(?:BC|AD|BCE|CE)\b)?(?=(\s+[a-z]+)?)")
_NOT_COUNTED = _set(
    "the a an and or but we i he she they it you was were is are when as to in on at for with after "
    "before that which had has have will would saw"
)
_RANGE = re.compile(r"(?<![\w.,])(\d+(?:\.\d+)?)\s?[-–]\s?(\d+(?:\.\d+)?)(?![\w.]|,\d)")
_PLAIN = re.compile(r"(?<![\w.])(?:(?<=\s)-|^-)?(?:" + _NUM + r")(?![\w])")


def _decade(m: re.Match[str]) -> str:
    spoken = _year(int(m.group(1)))
    if spoken.endswith("y"):
        return spoken[:-1] + "ies"
    return spoken + ("s" if not spoken.endswith("s") else "es")


def _year_match(m: re.Match[str]) -> str:
    next_word = (m.group(3) or "").strip()
    if next_word and next_word not in _NOT_COUNTED:  # "2000 people": a count, not a year
        return m.group()
    era = m.group(2) or ""
    return _year(int(m.group(1))) + (" " + " ".join(era.split()) if era else "")


_PHONE = re.compile(r"(?<![\w.-])(?:\(?(\d{3})\)?[-. ])?(\d{3})-(\d{4})(?![\w-])")


def _digits(group: str) -> str:
    return " ".join("oh" if d == "0" else _words(int(d)) for d in group)


def _phone(m: re.Match[str]) -> str:
    """555-1234, (212) 555-1234: digit by digit, in groups, as people read phone numbers."""
    return ", ".join(_digits(g) for g in m.groups() if g)


def _numbers(text: str) -> str:
    text = _PHONE.sub(_phone, text)
    text = _DECADE.sub(_decade, text)
    text = _YEAR.sub(_year_match, text)
    text = _RANGE.sub(lambda m: f"{_number(m.group(1))} to {_number(m.group(2))}", text)
    return _PLAIN.sub(lambda m: _number(m.group()), text)


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
    lambda t: _TIME.sub(_time, t),
    _dates,
    lambda t: _MONEY.sub(_money, t),
    lambda t: _PERCENT.sub(lambda m: _number(m.group(1)) + " percent", t),
    lambda t: _UNIT.sub(_unit, t),
    lambda t: _ORDINAL.sub(lambda m: _words(int(m.group(1)), "ordinal"), t),
    lambda t: _ROMAN.sub(_roman, t),
    _abbreviations,
    _numbers,
    _symbols,
)


def normalize_text(text: str, lexicon: WordList | None = None) -> str:
    """The words a reader would say for ``text`` (English); punctuation that shapes prosody stays."""
    for rule in _RULES:
        text = rule(text)
    text = _capitals(text, lexicon if lexicon is not None else misaki_words())
    return " ".join(text.split())
