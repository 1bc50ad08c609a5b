"""Text normalisation before G2P: one table, written form -> what a reader says (pure, no models)."""

from __future__ import annotations

import pytest

pytest.importorskip("misaki")

from streamvoice.tts.normalize import WordList, misaki_words, normalize_text

CASES = [
    # capitals: dictionary words in capitals are read as words, acronyms stay for the G2P to spell or say
    ("case", "This is VERY important.", "This is very important."),
    ("case", "I told HIM about the TURNIPS.", "I told him about the turnips."),
    ("case", "WARNING: DO NOT TOUCH THE WIRES!", "Warning: do not touch the wires!"),
    ("case", "NASA and the FBI use an API in the USA.", "NASA and the FBI use an API in the USA."),
    ("case", "THE NEW AI MODEL IS HERE.", "The new AI model is here."),
    ("case", "The IT team met the WHO.", "The IT team met the WHO."),
    # numbers, ordinals, decimals
    ("number", "It was -5 degrees for 1,000,000 people.", "It was minus five degrees for one million people."),
    ("number", "Pi is 3.14, roughly.", "Pi is three point one four, roughly."),
    ("number", "The 1st, 2nd and 23rd place.", "The first, second and twenty-third place."),
    ("number", "Read pages 10-20 tonight.", "Read pages ten to twenty tonight."),
    # money and percentages
    ("currency", "It costs $3.50 or 20% off.", "It costs three dollars and fifty cents or twenty percent off."),
    ("currency", "It is $0.99, $1 and £2.50.", "It is ninety-nine cents, one dollar and two pounds and fifty pence."),
    ("currency", "They raised $5m and €1,200.", "They raised five million dollars and one thousand two hundred euros."),
    ("currency", "Growth was 2.5% this year.", "Growth was two point five percent this year."),
    # times, dates, years
    ("time", "Meet me at 10:30 a.m. today.", "Meet me at ten thirty A.M. today."),
    ("time", "Call at 9:05 pm or at 7:00.", "Call at nine oh five P.M. or at seven o'clock."),
    ("date", "On March 5, 2024 it rained.", "On March fifth, twenty twenty-four it rained."),
    ("date", "Due 2024-03-05 or 12/25/2023.",
     "Due March fifth, twenty twenty-four or December twenty-fifth, twenty twenty-three."),
    ("date", "Born on 4 July 1990.", "Born on the fourth of July, nineteen ninety."),
    ("year", "In 1984 and the 1990s, by 2005.",
     "In nineteen eighty-four and the nineteen nineties, by two thousand and five."),
    ("year", "We sold 2000 units.", "We sold two thousand units."),
    # units
    ("unit", "It weighs 5 kg and runs 60 mph at 25°C.",
     "It weighs five kilograms and runs sixty miles per hour at twenty-five degrees Celsius."),
    ("unit", "A 1 km walk and 16 GB of memory.", "A one kilometer walk and sixteen gigabytes of memory."),
    # Roman numerals after names
    ("roman", "Henry VIII and Louis XIV.", "Henry the eighth and Louis the fourteenth."),
    ("roman", "After World War II, Elizabeth I was gone.", "After World War two, Elizabeth the first was gone."),
    ("roman", "When I was young, I said it.", "When I was young, I said it."),
    ("roman", "Then Paul I think left.", "Then Paul I think left."),
    ("number", "Call 555-1234 or (212) 555-0199.",
     "Call five five five, one two three four or two one two, five five five, oh one nine nine."),
    # abbreviations
    ("abbrev", "Dr. Smith lives on Main St. near St. Paul.", "Doctor Smith lives on Main Street near Saint Paul."),
    ("abbrev", "Ask Mr. Jones, Jr. or Mrs. Lee.", "Ask Mister Jones, Junior or Missus Lee."),
    ("abbrev", "He lives on Elm St.", "He lives on Elm Street."),
    ("abbrev", "Bring fruit, e.g. apples, etc.", "Bring fruit, for example apples, et cetera"),
    ("abbrev", "See No. 5 and item #7.", "See number five and item number seven."),
    # addresses and symbols
    ("address", "Visit https://example.com/docs today.", "Visit example dot com slash docs today."),
    ("address", "Mail john.doe@example.com now.", "Mail john dot doe at example dot com now."),
    ("symbol", "R&D + Q&A @ home, 5 + 3 = 8", "R and D plus Q and A at home, five plus three equals eight"),
    ("symbol", "Salt & pepper, and/or lemon.", "Salt and pepper, and or lemon."),
]


@pytest.mark.parametrize(("kind", "written", "spoken"), CASES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(CASES)])
def test_normalize_table(kind: str, written: str, spoken: str) -> None:
    assert normalize_text(written) == spoken


def test_plain_text_is_unchanged() -> None:
    text = "Honestly, I think the second option is better for your team."
    assert normalize_text(text) == text


def test_word_list_is_injectable() -> None:
    words = WordList(frozenset({"turnip", "him"}), frozenset())
    assert normalize_text("TURNIPS for HIM, not XYZ.", words) == "Turnips for him, not XYZ."


def test_misaki_word_list_knows_words_and_acronyms() -> None:
    words = misaki_words()
    assert words.is_word("important") and words.is_word("turnips") and words.is_word("walked")
    assert not words.is_word("fbi")
    assert "NASA" in words.acronyms and "AI" in words.spelled
