"""Pure parts of the recognizer with plain data: normaliser/WER, LocalAgreement-2, guard, fallback."""

from __future__ import annotations

import pytest

from streamvoice.asr import fallback
from streamvoice.asr.agreement import LocalAgreement
from streamvoice.asr.backend import Segment
from streamvoice.asr.events import Word
from streamvoice.asr.guard import (
    cut_boundary_restart,
    cut_repetition,
    cut_restart,
    cut_unheard_tail,
    guard_segments,
    is_hallucination,
)
from streamvoice.asr.merge import join_words
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


def test_normalize_reads_ordinals_and_decades_as_words() -> None:
    assert normalize("the 15th century") == "the fifteenth century" == normalize("the fifteenth century")
    assert normalize("the 1st of May, St. Louis") == "the first of may saint louis"
    assert normalize("22nd") == "twenty second"
    assert normalize("in the mid-90s") == "in the mid nineties"
    assert normalize("the 1990s") == "the nineteen nineties"


def test_wer_counts_edits() -> None:
    assert wer("the cat sat", "the cat sat") == 0.0
    assert word_errors("the cat sat on the mat", "the bat sat on mat") == (2, 6)
    assert wer("", "") == 0.0


def test_local_agreement_commits_only_what_two_hypotheses_share() -> None:
    la = LocalAgreement()
    assert la.insert(words("hello word")) == []
    assert [w.word for w in la.insert(words("hello world how"))] == ["hello"]
    # the next decode is forced to start with "hello": its hypothesis holds what follows
    assert [w.word for w in la.insert(words("world how are"))] == ["world", "how"]
    assert [w.word for w in la.tail] == ["are"]
    assert [w.word for w in la.finish(words("are you"))] == ["are", "you"]
    assert join_words(la.committed) == "hello world how are you"


def test_local_agreement_never_ends_a_commit_on_a_number() -> None:
    """Two decodes that both stop at "about 14" while "1455" is being said must not commit "14"."""
    la = LocalAgreement()
    la.insert(words("of about 14"))
    assert [w.word for w in la.insert(words("of about 14"))] == ["of", "about"]
    assert [w.word for w in la.insert(words("1455. The"))] == []
    assert [w.word for w in la.insert(words("1455. The book"))] == ["1455.", "The"]
    assert join_words(la.committed) == "of about 1455. The"


def test_local_agreement_gives_a_doubted_word_more_audio_before_committing_it() -> None:
    """Longform: two decodes both said "there" (p 0.44) where the reader said "their"; with half a
    second more audio after it, the decoder hears what follows and can still change it."""
    doubted = [Word("in", 0.0, 0.4, 0.9), Word("there", 0.5, 0.9, 0.44), Word("own", 1.0, 1.4, 0.9)]
    la = LocalAgreement()
    la.insert(doubted)
    assert [w.word for w in la.insert(doubted, until_s=1.2)] == ["in"]  # 0.3 s after "there": too soon
    assert [w.word for w in la.insert(doubted[1:], until_s=1.6)] == ["there", "own"]  # 0.7 s after it
    sure = [Word("in", 0.0, 0.4, 0.9), Word("their", 0.5, 0.9, 0.8)]
    la = LocalAgreement()
    la.insert(sure)
    assert [w.word for w in la.insert(sure, until_s=1.2)] == ["in", "their"]


def test_local_agreement_shows_but_never_commits_while_told_not_to() -> None:
    la = LocalAgreement()
    la.insert(words("rhaid y rhannu"), commit=False)
    assert la.insert(words("rhaid y rhannu"), commit=False) == [] and la.committed == []
    assert [w.word for w in la.tail] == ["rhaid", "y", "rhannu"]
    assert [w.word for w in la.insert(words("rhaid y"))] == ["rhaid", "y"]


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
        seg("Thank you.", no_speech_prob=0.5),
    ],
)
def test_guard_drops_hallucinations(segment: Segment) -> None:
    assert is_hallucination(segment)
    assert guard_segments([segment]) == []


def timed(spec: list[tuple[str, float, float]]) -> list[Word]:
    return [Word(w, a, b, 0.9) for w, a, b in spec]


def test_guard_keeps_spoken_repetitions_however_many() -> None:
    assert not is_hallucination(seg("Thank you.", no_speech_prob=0.01, avg_logprob=-0.1))
    twelve = " ".join(["two"] * 12)  # each "two" has its own 0.4 s of audio
    kept = guard_segments([seg(twelve, compression_ratio=4.0)])
    assert [w.word for w in kept[0].words] == ["two"] * 12
    assert [w.word for w in cut_repetition(words("no no no no no"))] == ["no"] * 5


def test_guard_cuts_repeats_that_took_no_audio() -> None:
    looped = timed([("what's", 0.0, 1.38), ("to", 1.38, 1.48), ("be", 1.48, 1.64), ("done?", 1.64, 1.82),
                    ("what's", 1.82, 1.82), ("to", 1.82, 1.82), ("be", 1.82, 1.82), ("done?", 1.82, 1.84)])
    assert [w.word for w in cut_repetition(looped)] == ["what's", "to", "be", "done?"]
    restart = timed([("according", 0.0, 0.5), ("to", 0.5, 0.6), ("the", 0.6, 0.7), ("news", 0.7, 1.0),
                     ("he", 1.0, 1.1), ("was", 1.1, 1.3), ("twenty.", 1.3, 1.8),
                     ("according", 1.8, 1.8), ("to", 1.8, 1.8), ("the", 1.8, 1.81)])
    assert " ".join(w.word for w in cut_restart(restart)) == "according to the news he was twenty."
    spoken_restart = timed([(w, i * 0.4, i * 0.4 + 0.35) for i, w in enumerate(["yes", "I", "did", "yes", "I", "did"])])
    assert len(cut_restart(spoken_restart)) == 6


def test_guard_drops_a_restart_of_the_committed_words_but_not_a_speakers_repeats() -> None:
    """stress/04 of bench.asr_wer: the commit ended "Saint Dennis, the Irish Church." with a period
    and the next decode, forced after it, said the group again over the following audio."""
    committed = words("the fund provides credit. Saint Dennis, the Irish Church.")
    restarted = words("St. Dennis, the Irish Church, became a possession", start=6.0)
    kept = cut_boundary_restart(committed, restarted)
    assert [w.word for w in kept] == ["became", "a", "possession"]
    assert kept[0].start_s == restarted[5].start_s
    guarded = guard_segments([seg("St. Dennis, the Irish Church, became a possession")], committed)
    assert guarded[0].text == "became a possession"
    counted = words("eight eight eight")  # one word said again and again: every one is kept
    assert len(cut_boundary_restart(counted, words("eight eight eight eight", start=2.0))) == 4
    two_words = words("I said, yes I")  # a two-word group is too short to call a restart
    assert len(cut_boundary_restart(two_words, words("yes I did", start=3.0))) == 3
    assert cut_boundary_restart([], restarted) == restarted


def test_fallback_triggers_on_loops_guesses_and_collapsed_times_not_on_silence() -> None:
    clean = fallback.Attempt("the arrangement will avoid any conflicts", -0.3, 0.01, 0.0)
    assert not fallback.needs_fallback(clean)
    assert fallback.needs_fallback(fallback.Attempt("rhaid " * 20, -0.3, 0.01, 0.0))  # compresses too well
    assert fallback.needs_fallback(fallback.Attempt("a code deep", -1.4, 0.01, 0.0))  # guessing
    collapsed = fallback.with_timing(clean, [(0.0, 0.4), (1.8, 1.8), (1.8, 1.8), (1.8, 1.81)])
    assert collapsed.collapsed_words == 3 and fallback.needs_fallback(collapsed)
    assert not fallback.needs_fallback(fallback.Attempt("you", -1.5, 0.9, 0.0))  # silence: nothing to redo
    looping = fallback.Attempt("la " * 30, -0.2, 0.01, 0.0)
    unsure = fallback.Attempt("la di da", -0.9, 0.01, 0.2)
    assert fallback.best([looping, unsure]) is unsure


def test_fallback_ladder_redoes_finals_wide_and_keeps_partials_on_their_window() -> None:
    final = fallback.ladder("final", full_window=False)
    assert final[0] == (0.0, False) and final[1] == (0.0, True)
    assert [t for t, _ in final[2:]] == list(fallback.FINAL_TEMPERATURES) and all(w for _, w in final[1:])
    assert fallback.ladder("final", full_window=True)[1][0] > 0  # already wide: straight to hotter
    partial = fallback.ladder("partial", full_window=False)
    assert not any(wide for _, wide in partial) and len(partial) == 2 and partial[1][0] > 0


def test_a_finals_last_words_the_model_barely_believed_are_dropped() -> None:
    said = [Word("of", 5.1, 5.44, 0.99), Word("Columbus.", 5.46, 5.92, 0.97), Word("The", 6.36, 6.52, 0.012)]
    assert [w.word for w in cut_unheard_tail(said)] == ["of", "Columbus."]
    unsure_name = [Word("by", 1.0, 1.2, 0.98), Word("Schoeffer", 1.2, 1.8, 0.3)]
    assert cut_unheard_tail(unsure_name) == unsure_name  # misheard, but heard: kept
    inside = [Word("um", 0.0, 0.2, 0.05), Word("yes", 0.3, 0.6, 0.9)]
    assert cut_unheard_tail(inside) == inside  # only the end of a final is judged
    assert cut_unheard_tail([Word("the", 0.0, 0.1, 0.02)]) == []
