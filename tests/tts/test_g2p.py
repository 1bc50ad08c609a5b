"""G2P in quiet mode (no synthesis model): numbers, currency, abbreviations, splitting, errors."""

from __future__ import annotations

import pytest

from streamvoice.tts.g2p import Phonemizer, phonemizer_for_voice


@pytest.fixture(scope="module")
def en() -> Phonemizer:
    return Phonemizer("en-us")


def phon(p: Phonemizer, text: str) -> str:
    return " ".join(c.phonemes for c in p.phonemize(text))


def test_numbers_currency_dates_abbreviations(en: Phonemizer) -> None:
    assert phon(en, "It costs $3.50.") == "ˌɪt kˈɔsts θɹˈi dˈɑləɹz ænd fˈɪfti sˈɛnts."
    assert "twˈɛnti twˈɛntifˌɔɹ" in phon(en, "On May 5th, 2024.")  # year read as a year
    assert "fˈɪfθ" in phon(en, "May 5th")
    assert phon(en, "Dr. Smith").startswith("dˈɑktəɹ smˈɪθ")
    assert "θɹˈi pˈYnt wˈʌn fˈɔɹ" in phon(en, "pi is 3.14")
    assert "pˈWndz" in phon(en, "It costs £20.")


def test_word_spans_cover_phonemes(en: Phonemizer) -> None:
    (chunk,) = en.phonemize("Dr. Smith paid $3.50 today.")
    words = [w for w, _, _ in chunk.word_spans]
    assert words == ["Doctor", "Smith", "paid", "three", "dollars", "and", "fifty", "cents", "today"]  # as spoken
    for _, a, b in chunk.word_spans:
        assert 0 <= a < b <= len(chunk.phonemes)
    assert chunk.phonemes[chunk.word_spans[1][1] : chunk.word_spans[1][2]] == "smˈɪθ"


def test_unknown_word_uses_espeak_fallback(en: Phonemizer) -> None:
    ps = phon(en, "Zorbleflax")
    assert ps and ps[0] == "z"


def test_long_text_splits_under_limit_at_sentence_ends(en: Phonemizer) -> None:
    text = " ".join(["This is a fairly long sentence, with a clause, that keeps on going."] * 12)
    chunks = en.phonemize(text)
    assert len(chunks) >= 2
    assert all(len(c.phonemes) <= 510 for c in chunks)
    assert all(c.text.endswith(".") for c in chunks)
    assert " ".join(c.text for c in chunks) == text


@pytest.mark.parametrize("text", ["", "   ", "...", "?!", "— —"])
def test_empty_text_is_a_clear_error(en: Phonemizer, text: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        en.phonemize(text)


def test_other_languages_via_espeak() -> None:
    es = phonemizer_for_voice("ef_dora")
    assert es.lang == "es"
    (chunk,) = es.phonemize("Hola mundo.")
    assert chunk.phonemes.startswith("ˈola")
    assert [w for w, _, _ in chunk.word_spans] == ["Hola", "mundo."]
    assert phonemizer_for_voice("bf_emma").lang == "en-gb"


def test_unsupported_language_error() -> None:
    with pytest.raises(ValueError, match="no G2P for language"):
        Phonemizer("klingon")
