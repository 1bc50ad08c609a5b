"""Numbers as English words: times, dates, money, percentages, units, ordinals, years, phone numbers.

Why its own module: these are the rules of :mod:`streamvoice.tts.normalize` that only turn digits
into the words a reader says ("10:30 a.m." -> "ten thirty A.M.", "$3.50" -> "three dollars and
fifty cents", "1984" -> "nineteen eighty-four"), through num2words. Pure, English only.
"""

from __future__ import annotations

import re

from num2words import num2words

# -- number words --------------------------------------------------------------------------------


def words(value: int | float | str, to: str = "cardinal") -> str:
    """num2words without its commas (a comma makes Kokoro pause inside a number)."""
    return str(num2words(value, to=to)).replace(",", "")


def number(text: str) -> str:
    """"1,234" -> one thousand two hundred and thirty-four; "3.14" -> three point one four."""
    plain = text.replace(",", "")
    negative = plain.startswith("-")
    plain = plain.lstrip("-")
    if "." in plain:
        whole, frac = plain.split(".", 1)
        out = words(int(whole or "0")) + " point " + " ".join(words(int(d)) for d in frac)
    else:
        out = words(int(plain))
    return ("minus " if negative else "") + out


def _year(value: int) -> str:
    return words(value, "year")


def word_set(text: str) -> frozenset[str]:
    """A set of words written as one string (long word lists stay readable)."""
    return frozenset(text.split())


_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"

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
        return words(hour) + (suffix or " o'clock")
    spoken = words(minute) if minute >= 10 else "oh " + words(minute)
    return f"{words(hour)} {spoken}{suffix}"


def _month(name: str) -> str:
    return _MONTH_ABBR.get(name.rstrip("."), name.rstrip("."))


def _date(month: str, day: int, year: str | None) -> str:
    return f"{_month(month)} {words(day, 'ordinal')}" + (f", {_year(int(year))}" if year else "")


def dates(text: str) -> str:
    text = _ISO_DATE.sub(lambda m: _date(_MONTHS[int(m.group(2)) - 1], int(m.group(3)), m.group(1)), text)
    text = _US_DATE.sub(lambda m: _date(_MONTHS[int(m.group(1)) - 1], int(m.group(2)), m.group(3)), text)
    text = _MONTH_DAY.sub(lambda m: _date(m.group(1), int(m.group(2)), m.group(3)), text)
    return _DAY_MONTH.sub(
        lambda m: f"the {words(int(m.group(1)), 'ordinal')} of {_month(m.group(2))}"
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
        return f"{number(amount)} {_SCALES[scale.lower()]} {many}"
    whole_s, _, frac = amount.partition(".")
    whole = int(whole_s or "0")
    cents = int((frac + "0")[:2]) if frac and len(frac) <= 2 and sub_one else None
    if frac and cents is None:  # $1.005 or yen with decimals: read the number as written
        return f"{number(amount)} {many}"
    parts = []
    if whole or not cents:
        parts.append(f"{words(whole)} {one if whole == 1 else many}")
    if cents:
        parts.append(f"{words(cents)} {sub_one if cents == 1 else sub_many}")
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
    return f"{number(m.group(1))} {one if m.group(1) in ('1', '-1') else many}"


# -- years and plain numbers ---------------------------------------------------------------------

_DECADE = re.compile(r"\b(1[1-9]\d0|20[0-9]0)['’]?s\b")
_YEAR = re.compile(r"\b(1[1-9]\d\d|20\d\d)\b(?![.,]\d)(\s+(?:BC|AD|BCE|CE)\b)?(?=(\s+[a-z]+)?)")
_NOT_COUNTED = word_set(
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
    return " ".join("oh" if d == "0" else words(int(d)) for d in group)


def _phone(m: re.Match[str]) -> str:
    """555-1234, (212) 555-1234: digit by digit, in groups, as people read phone numbers."""
    return ", ".join(_digits(g) for g in m.groups() if g)


def numbers(text: str) -> str:
    text = _PHONE.sub(_phone, text)
    text = _DECADE.sub(_decade, text)
    text = _YEAR.sub(_year_match, text)
    text = _RANGE.sub(lambda m: f"{number(m.group(1))} to {number(m.group(2))}", text)
    return _PLAIN.sub(lambda m: number(m.group()), text)


def times(text: str) -> str:
    return _TIME.sub(_time, text)


def money(text: str) -> str:
    return _MONEY.sub(_money, text)


def percentages(text: str) -> str:
    return _PERCENT.sub(lambda m: number(m.group(1)) + " percent", text)


def units(text: str) -> str:
    return _UNIT.sub(_unit, text)


def ordinals(text: str) -> str:
    return _ORDINAL.sub(lambda m: words(int(m.group(1)), "ordinal"), text)
