"""The error counts WER hides: doubled phrases, up to whole sentences."""

from __future__ import annotations

from bench.speech_sets import doubled_phrases, extra_doubles


def test_a_doubled_sentence_is_counted() -> None:
    sentence = "the junction of valencia creek and the abourne river are just a short distance upstream".split()
    hypothesis = ["so", *sentence, *sentence, "the", "hancock's", "organ"]
    reference = ["so", *sentence, "takahashi", "has", "continued"]
    assert " ".join(sentence) in doubled_phrases(hypothesis)
    assert " ".join(sentence) in extra_doubles(hypothesis, reference, reference)


def test_genuine_repetition_in_the_reference_is_not_extra() -> None:
    said = "two two two two".split()
    assert extra_doubles(said, said, said) == []
    assert extra_doubles("what's to be done what's to be done".split(), "what's to be done".split(), []) == [
        "what's to be done"]
