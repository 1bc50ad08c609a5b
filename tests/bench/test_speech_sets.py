"""The error counts WER hides: doubled phrases, up to whole sentences."""

from __future__ import annotations

from bench.speech_sets import doubled_phrases, extra_doubles

SENTENCE = "the junction of valencia creek and the abourne river are just a short distance upstream"


def test_a_doubled_sentence_is_counted() -> None:
    words = SENTENCE.split(" ")
    hypothesis = ["so", *words, *words, "the", "hancock's", "organ"]
    reference = ["so", *words, "takahashi", "has", "continued"]
    assert SENTENCE in doubled_phrases(hypothesis)
    assert SENTENCE in extra_doubles(hypothesis, reference, reference)


def test_genuine_repetition_in_the_reference_is_not_extra() -> None:
    said = ["two"] * 4
    assert extra_doubles(said, said, said) == []
    phrase = ["what's", "to", "be", "done"]
    assert extra_doubles(phrase * 2, phrase, []) == ["what's to be done"]
