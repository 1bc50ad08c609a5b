"""Pure parts of the recognizer with plain data: normaliser/WER, merge, LocalAgreement-2, guard."""

from __future__ import annotations

import pytest

from streamvoice.asr.agreement import LocalAgreement
from streamvoice.asr.backend import Segment
from streamvoice.asr.events import Word
from streamvoice.asr.guard import cut_repetition, guard_segments, is_hallucination
from streamvoice.asr.merge import join_words, new_words_after
from streamvoice.textnorm import normalize, wer, word_errors


def words(text: str, start: float = 0.0, step: float = 0.5) -> list[Word]:
    return [Word(w, start + i * step, start + i * step + 0.4, 0.9) for i, w in enumerate(text.split())]


def seg(text: str, **kw: float) -> Segment:
    stats = {"avg_logprob": -0.2, "no_speech_prob": 0.01, "compression_ratio": 1.2} | kw
    return Segment(text, 0.0, 1.0, tuple(words(text)), **stats)


def test_normalize_is_consistent_for_numbers_case_and_punctuation() -> None:
    assert normalize("Mr. Smith, in 1850, paid 20%!") == "mister smith in eighteen fifty paid twenty percent"
    assert normalize("Twenty-one") == normalize("21")
    assert normalize("isn't it?") == "isn't it"


def test_wer_counts_edits() -> None:
    assert wer("the cat sat", "the cat sat") == 0.0
    assert word_errors("the cat sat on the mat", "the bat sat on mat") == (2, 6)
    assert wer("", "") == 0.0


def test_merge_drops_reheard_words_by_time_and_text() -> None:
    committed = words("we went to the")  # ends at 1.9
    reheard = [Word("the", 1.55, 1.9, 0.9), Word("market", 2.0, 2.4, 0.9)]
    assert [w.word for w in new_words_after(committed, reheard)] == ["market"]
    drifted = [Word("to", 1.6, 1.8, 0.9), Word("the", 1.85, 2.0, 0.9), Word("shop", 2.1, 2.4, 0.9)]
    assert [w.word for w in new_words_after(committed, drifted)] == ["shop"]


def test_merge_keeps_a_genuinely_repeated_word_far_in_time() -> None:
    committed = words("no")
    later = [Word("no", 3.0, 3.3, 0.9)]
    assert [w.word for w in new_words_after(committed, later)] == ["no"]


def test_local_agreement_commits_only_what_two_hypotheses_share() -> None:
    la = LocalAgreement()
    assert la.insert(words("hello word")) == []
    assert [w.word for w in la.insert(words("hello world how"))] == ["hello"]
    assert [w.word for w in la.insert(words("hello world how are"))] == ["world", "how"]
    assert [w.word for w in la.tail] == ["are"]
    assert [w.word for w in la.finish(words("hello world how are you"))] == ["are", "you"]
    assert join_words(la.committed) == "hello world how are you"


def test_join_words_attaches_elisions_and_hyphens() -> None:
    ws = [Word(t, 0, 0, 1) for t in ["Nous", "sommes", "d'", "accord,", "États", "-Unis."]]
    assert join_words(ws) == "Nous sommes d'accord, États-Unis."


@pytest.mark.parametrize(
    "segment",
    [
        seg("Thanks for watching!"),
        seg("Subtitles by the Amara.org community"),
        seg("[Music]"),
        seg("hello there", no_speech_prob=0.9, avg_logprob=-1.5),
        seg("la la la la la la la la", compression_ratio=3.1),
        seg("Thank you.", no_speech_prob=0.5),
    ],
)
def test_guard_drops_hallucinations(segment: Segment) -> None:
    assert is_hallucination(segment)
    assert guard_segments([segment]) == []


def test_guard_keeps_real_speech_and_cuts_runaway_repetition() -> None:
    assert not is_hallucination(seg("Thank you.", no_speech_prob=0.01, avg_logprob=-0.1))
    kept = guard_segments([seg("I said it is it is it is it is it is over")])
    assert [w.word for w in kept[0].words] == ["I", "said", "it", "is", "over"]
    assert [w.word for w in cut_repetition(words("no no no"))] == ["no", "no", "no"]
    looped = "the house was old and the house was old and"
    assert [w.word for w in cut_repetition(words(looped))] == ["the", "house", "was", "old", "and"]
    restarted = guard_segments([seg("according to the news he was twenty. according to the")])
    assert " ".join(w.word for w in restarted[0].words) == "according to the news he was twenty."
