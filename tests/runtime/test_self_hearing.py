"""The self-hearing rule, table-driven: a reply played on the input timeline, hypotheses judged."""

from __future__ import annotations

import pytest

from streamvoice.runtime.self_hearing import HeardWord, SelfHearing, Verdict, similar, trim_echo

REPLY = "The printing press changed everything because books became cheap and common"
WORD_MS = 400  # the reply's words, one every 400 ms from turn time 0


def reply_words(text: str = REPLY, start_ms: int = 0) -> list[tuple[str, float, float]]:
    return [(w, start_ms + i * WORD_MS, start_ms + i * WORD_MS + 300) for i, w in enumerate(text.split())]


def playing(anchor_s: float = 10.0, **kw: float) -> SelfHearing:
    """A reply sent at input time ``anchor_s`` (no flow reports: played on receipt), complete."""
    sh = SelfHearing(**kw)  # type: ignore[arg-type]
    words = reply_words()
    sh.audio_sent(1, 0, len(words) * WORD_MS, words, input_s=anchor_s)
    sh.turn_done(1, None)
    return sh


def heard(text: str, start_s: float, step_s: float = WORD_MS / 1000) -> list[HeardWord]:
    return [HeardWord(w, start_s + i * step_s, start_s + i * step_s + 0.3) for i, w in enumerate(text.split())]


# (case, hypothesis words, final, expected verdict)
CASES = [
    ("exact echo, 150 ms late", heard("The printing press changed everything", 10.15), False, Verdict.ECHO),
    ("exact echo, 700 ms late", heard("printing press changed everything because", 10.4 + 0.7), False, Verdict.ECHO),
    ("echo with ASR errors", heard("The printin dress changes everything be cause books", 10.1, 0.35), False,
     Verdict.ECHO),
    ("echo as a final, punctuation and case", heard("Books became cheap, and common.", 10.0 + 6 * 0.4 + 0.2), True,
     Verdict.ECHO),
    ("user words over the reply", heard("The printing press wait stop talking please", 10.1), False, Verdict.USER),
    ("user alone over the reply", heard("hold on a second", 11.0), False, Verdict.USER),
    ("user repeats a reply word much later", heard("printing again", 30.0), True, Verdict.USER),
    ("user repeats reply words much later", heard("the printing press", 30.0), False, Verdict.USER),
    ("one unmatched word: not yet known", heard("stop", 11.0), False, Verdict.UNSURE),
    ("one unmatched word as a final: too short over a reply", heard("stop", 11.0), True, Verdict.ECHO),
    ("two unmatched words as a final: the user", heard("stop it", 11.0, 0.3), True, Verdict.USER),
    ("one echo word", heard("printing", 10.45), False, Verdict.ECHO),
    ("empty partial", [], False, Verdict.UNSURE),
    ("empty final", [], True, Verdict.ECHO),
    ("reply words in the wrong order", heard("common cheap became books", 10.0, 0.6), False, Verdict.USER),
    ("echo with one inserted word", heard("The printing press uh changed everything", 10.1, 0.33), False,
     Verdict.ECHO),
    ("echo repeated by a window cut mid-word", heard("the printing pressed the printing", 10.0, 0.25), False,
     Verdict.ECHO),
    ("reply words heard before they were played", heard("became cheap and common", 10.0), False, Verdict.USER),
]


@pytest.mark.parametrize(("case", "words", "final", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_rule(case: str, words: list[HeardWord], final: bool, expected: Verdict) -> None:
    assert playing().judge(words, final=final).verdict is expected


# A partial's window may end inside its last word, which Whisper then writes garbled: "Box B" for
# "Books be…", "and I did" for "and ide…" (the models test's flakes). (case, words, open_end, expected)
OPEN_END_CASES = [
    ("a misheard echo word and a cut-off one", heard("Box B", 12.4), True, Verdict.UNSURE),
    ("a cut-off word split in two", heard("books became cheap and common and I did", 12.4), True, Verdict.ECHO),
    ("the same as a complete hypothesis", heard("Box B", 12.4), False, Verdict.USER),
    ("two user words before it", heard("hold on a", 11.0), True, Verdict.USER),
    ("a last word that matches counts", heard("Box became", 12.4), True, Verdict.ECHO),
]


@pytest.mark.parametrize(("case", "words", "open_end", "expected"), OPEN_END_CASES, ids=[c[0] for c in OPEN_END_CASES])
def test_the_last_word_of_a_partial_is_provisional(case: str, words: list[HeardWord], open_end: bool,
                                                  expected: Verdict) -> None:
    assert playing().judge(words, open_end=open_end).verdict is expected
    if open_end:  # a final is whole: its last word counts
        assert playing().judge(words, final=True).verdict is not Verdict.UNSURE


def test_active_while_playing_and_for_the_tail_only() -> None:
    sh = SelfHearing(tail_s=1.5, delay_s=1.0, early_s=0.5)
    words = reply_words()
    assert not sh.active(10.0)
    sh.audio_sent(1, 0, 1000, words[:3], input_s=10.0)
    assert not sh.active(9.0) and sh.active(10.0) and sh.active(13.4) and not sh.active(13.6)
    sh.audio_sent(1, 1000, 3400, words[3:], input_s=10.2)
    sh.turn_done(1, None)
    end = 10.0 + 4.4
    assert sh.active(end + 2.4) and not sh.active(end + 2.6)  # delay + tail after its last audio


def test_flow_reports_move_the_anchor_and_freeze_played_words() -> None:
    sh = SelfHearing()
    sh.audio_sent(1, 0, 4400, reply_words(), input_s=10.0)  # sent at 10 s, but the client buffers
    sh.played(1, 0, None, input_s=10.8)  # playback starts 0.8 s later
    assert sh.judge(heard("The printing press", 10.85)).verdict is Verdict.ECHO
    sh.played(1, 1200, None, input_s=12.0)  # three words played by 12.0
    sh.played(None, 1200, None, input_s=15.0)  # then the client stalls for 3 s
    # the first words stay where they were played; the rest follow the stalled playback
    assert sh.judge(heard("The printing press", 10.85)).verdict is Verdict.ECHO
    assert sh.judge(heard("changed everything because", 15.05)).verdict is Verdict.ECHO
    assert sh.judge(heard("changed everything because", 12.05)).verdict is Verdict.USER


def test_buffered_ms_reports_count_from_the_audio_sent() -> None:
    sh = SelfHearing()
    sh.audio_sent(1, 0, 4400, reply_words(), input_s=10.0)
    sh.played(1, None, 4400, input_s=11.0)  # all sent, nothing played yet at 11 s
    assert sh.judge(heard("The printing press", 11.1)).verdict is Verdict.ECHO
    assert sh.judge(heard("The printing press", 9.5)).verdict is not Verdict.ECHO


def test_a_cancelled_turn_forgets_the_words_never_played() -> None:
    sh = SelfHearing()
    sh.audio_sent(1, 0, 4400, reply_words(), input_s=10.0)
    sh.turn_done(1, 1000)  # cut after one second
    assert sh.judge(heard("The printing", 10.1)).verdict is Verdict.ECHO
    assert sh.judge(heard("books became cheap", 12.5)).verdict is Verdict.USER
    assert not sh.active(10.0 + 1.0 + 1.0 + 1.5 + 0.1)


def test_trim_cuts_leading_and_trailing_echo_only() -> None:
    sh = playing()
    words = heard("The printing press wait stop talking changed everything", 10.1)
    j = sh.judge(words)
    assert j.verdict is Verdict.USER
    lo, hi = trim_echo(j)
    assert [w.word for w in words[lo:hi]] == ["wait", "stop", "talking"]
    words = heard("printing in the only sense changed", 10.4)  # one word like the reply's at an edge stays
    lo, hi = trim_echo(sh.judge(words))
    assert [w.word for w in words[lo:hi]] == ["printing", "in", "the", "only", "sense", "changed"]


@pytest.mark.parametrize(("a", "b", "same"), [
    ("printing", "printin", True), ("everything", "every", True), ("press", "dress", True),
    ("changed", "changes", True), ("a", "the", False), ("cheap", "sheep", False), ("and", "and", True),
])
def test_similar_words(a: str, b: str, same: bool) -> None:
    assert similar(a, b) is same


def test_a_frame_sent_after_its_time_plays_on_receipt() -> None:
    sh = SelfHearing()
    words = reply_words()
    sh.audio_sent(1, 0, 1200, words[:3], input_s=10.0)  # the first sentence, played from 10.0
    sh.audio_sent(1, 1200, 3200, words[3:], input_s=14.0)  # the next one came 2.8 s late: played from 14.0
    assert sh.judge(heard("The printing press", 10.1)).verdict is Verdict.ECHO
    assert sh.judge(heard("changed everything because", 14.05)).verdict is Verdict.ECHO
    assert sh.judge(heard("changed everything because", 11.25)).verdict is Verdict.USER
    assert sh.active(14.0 + 3.2 + 2.4) and not sh.active(14.0 + 3.2 + 2.6)
