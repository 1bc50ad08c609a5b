"""Segmenter: hard cases and properties (pure, no models)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamvoice.tts.segmenter import Segmenter


def run(text: str, step: int, **kw: int) -> list[str]:
    seg = Segmenter(**kw)
    out: list[str] = []
    for i in range(0, len(text), step):
        out += seg.push(text[i : i + step])
    return out + seg.finish()


PROTECTED = [
    "Dr. Smith", "Mrs. Brown", "e.g. apples", "U.S.A. team", "3.14", "10:30", "1,000,000",
    "https://example.com/a.b?x=1", "john.doe@example.com", "Wait... what", "a.m. today",
]


@pytest.mark.parametrize("step", [1, 2, 7, 10_000])
def test_hard_cases_stay_whole(step: int) -> None:
    text = (
        "Sure thing. Dr. Smith paid $3.50 at 10:30 a.m. today for 1,000,000 shares, e.g. apples. "
        "Visit https://example.com/a.b?x=1 or mail john.doe@example.com. Wait... what? "
        'He said "Stop. Now." Then the U.S.A. team left!'
    )
    chunks = run(text, step)
    for pattern in PROTECTED:
        if pattern in text:
            assert any(pattern in c for c in chunks), (pattern, chunks)
    assert 'He said "Stop. Now."' in chunks
    assert chunks[0] == "Sure thing."


def test_sentences_and_newlines_and_lists() -> None:
    chunks = run("Here is the plan:\n1. Buy milk.\n2. Sell eggs\n- Call Mr. Jones\nThat is all. Bye now!", 3)
    expected = ["Here is the plan:", "1. Buy milk.", "2. Sell eggs", "- Call Mr. Jones", "That is all.", "Bye now!"]
    assert chunks == expected


def test_first_chunk_is_cut_early_then_chunks_grow_back_to_sentences() -> None:
    seg = Segmenter()
    out: list[str] = []
    text = "Okay then, the results are in, and they look good. More later, maybe."
    for word in text.split(" "):
        out += seg.push(word + " ")
    out += seg.finish()
    assert out[0] == "Okay then,"  # a clause mark after two words
    assert out[1] == "the results are in,"  # then about twice that, so it is made while the first plays
    assert out[2] == "and they look good."  # the sentence's end
    assert out[3] == "More later, maybe."  # from there whole sentences


def test_a_short_first_chunk_is_not_followed_by_a_long_one() -> None:
    """'In short,' plays ~0.6 s; the rest of the sentence whole took ~1.5 s to make (a gap)."""
    seg = Segmenter()
    out: list[str] = []
    text = "In short, the new model is faster and uses less memory. We measured about 3.5 times the throughput."
    for word in text.split(" "):
        out += seg.push(word + " ")
    out += seg.finish()
    assert out == ["In short,", "the new model is faster", "and uses less memory.",
                   "We measured about 3.5 times the throughput."]


def test_first_chunk_leaves_after_about_four_words() -> None:
    seg = Segmenter()
    text = "Sure thing I can help you with that right away."
    pushed: list[list[str]] = [seg.push(w + " ") for w in text.split(" ")]
    assert pushed[:4] == [[], [], [], []]
    assert pushed[4] == ["Sure thing I can help"]  # the fifth word is complete: no opener seen, safe cut
    assert seg.finish() == ["you with that right away."]
    assert seg.push("Honestly I think the ") == ["Honestly I think"]  # before a determiner at four words


def test_a_reply_opener_with_a_comma_is_said_alone() -> None:
    """"Sure," is complete when it arrives; four more words (~0.27 s at 15 words/s) and their synthesis
    were waited for before."""
    seg = Segmenter()
    text = "Sure, I can help you with that right away."
    pushed = [seg.push(w + " ") for w in text.split(" ")]
    assert pushed[:1] == [["Sure,"]]  # as soon as it arrives: a comma after a word ends a clause
    assert [c for p in pushed[1:] for c in p] + seg.finish() == ["I can help you", "with that right away."]
    assert Segmenter(first_clause_min_words=2).push("Sure, I can ") == []  # the former rule, kept as an option


@pytest.mark.parametrize(
    ("deltas", "first"),
    [
        (["Sure", ","], "Sure,"),  # an LLM's tokens: the comma alone, no space yet
        (["Well", ";"], "Well;"),
        (["Sure", ".", " "], "Sure."),  # a period once a space shows the word is whole
        (["Really", "?"], "Really?"),
        (["Great", "!"], "Great!"),
        (["Yes", ",\"", " "], 'Yes,"'),  # closing quotes stay with the mark
    ],
)
def test_a_first_chunk_ends_on_the_mark_that_arrives_last(deltas: list[str], first: str) -> None:
    """The next word used to be waited for (a token of the LLM, 67 ms of text typed at 15 words/s)."""
    seg = Segmenter()
    out = [c for d in deltas for c in seg.push(d)]
    assert out == [first]
    assert seg.push("I can help. ") == []  # the next chunk is cut as before


@pytest.mark.parametrize(
    "deltas",
    [
        ["For 1", ","],  # 1,000 may follow
        ["Pi is 3", "."],  # 3.14 may follow
        ["Visit www", "."],  # no space: www.example.com may follow
        ["Dr", ". "],  # a name follows
        ["Ask J", ". "],  # an initial
        ["e.g", ". "],
        ["He said \"Stop", ". "],  # inside quotes: the quote ends the sentence
    ],
)
def test_a_mark_at_the_end_that_may_go_on_waits(deltas: list[str]) -> None:
    seg = Segmenter()
    assert [c for d in deltas for c in seg.push(d)] == []


def test_first_chunk_without_punctuation_is_cut_after_max_words() -> None:
    seg = Segmenter(first_chunk_max_words=5)
    out = seg.push("one two three four five six seven ")
    assert out == ["one two three four five"]
    assert seg.finish() == ["six seven"]


def test_baseline_mode_waits_for_sentence() -> None:
    seg = Segmenter(early_first_chunk=False)
    assert seg.push("Well, as I said before, the results are in ") == []
    assert seg.push("and look good. ") == []  # needs to see the next word's first letter
    assert seg.push("Next") == ["Well, as I said before, the results are in and look good."]


def test_run_on_text_is_cut_at_a_clause_within_limit() -> None:
    text = ", ".join(["the quick brown fox jumps"] * 40) + "."
    chunks = run(text, 5, max_chunk_chars=120)
    assert len(chunks) > 3
    assert all(len(c) <= 121 for c in chunks[:-1])


def test_whitespace_only_and_reset() -> None:
    seg = Segmenter()
    assert seg.push("   \n  ") == []
    assert seg.finish() == []
    seg.push("Half a sentence")
    seg.reset()
    assert seg.finish() == []


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


words = st.sampled_from(
    ["hello", "world", "Dr.", "Smith", "3.14", "10:30", "U.S.A.", "e.g.", "x@y.com", "https://a.b/c.d",
     "...", "…", "1,000", "end.", "Yes!", "why?", '"Quote.', 'it."', "one,", "two;", "—", "\n", "1.", "A."]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(words, min_size=0, max_size=60), st.lists(st.integers(1, 15), min_size=1, max_size=10))
def test_chunks_concatenate_to_input(parts: list[str], steps: list[int]) -> None:
    text = " ".join(parts)
    seg = Segmenter()
    out: list[str] = []
    pos = i = 0
    while pos < len(text):
        n = steps[i % len(steps)]
        out += seg.push(text[pos : pos + n])
        pos += n
        i += 1
    out += seg.finish()
    assert _squash("".join(out)) == _squash(text)
    assert all(c == c.strip() and c for c in out)
    # protected tokens never straddle a cut
    for token in {"3.14", "10:30", "U.S.A.", "x@y.com", "https://a.b/c.d", "1,000"} & set(parts):
        assert sum(c.count(token) for c in out) == text.count(token)


@pytest.mark.parametrize("step", [1, 3, 7])
def test_first_cut_without_punctuation_goes_before_a_determiner(step: int) -> None:
    text = "Honestly I think the second option is better for your team. It costs less."
    chunks = run(text, step)
    assert chunks == ["Honestly I think", "the second option is better for your team.", "It costs less."]
    # all of it at once: the sentence end is already known, so no early cut is needed
    assert run(text, 10_000) == ["Honestly I think the second option is better for your team.", "It costs less."]


def test_first_cut_prefers_a_clause_opener_to_a_preposition() -> None:
    seg = Segmenter(first_chunk_min_words=3, first_chunk_max_words=10)
    out = seg.push("We should go to the store and buy some milk today ")
    assert out == ["We should go to the store"]
    assert seg.finish() == ["and buy some milk today"]


def test_first_cut_needs_min_words_before_the_function_word() -> None:
    seg = Segmenter(first_chunk_min_words=3, first_chunk_max_words=10)
    out = seg.push("I went to school every single day in the summer months ")
    assert out == ["I went to school every single day"]  # "I went | to" has only two words


def test_first_cut_never_ends_on_an_article_or_verb() -> None:
    seg = Segmenter(first_chunk_min_words=2, first_chunk_max_words=8)
    out = seg.push("My favourite present this year is for the kids ")
    assert out == ["My favourite present this year"]  # "is | for" is no place; never end on "the"
    seg.reset()
    out = seg.push("We built a small garden shed with my brother last ")
    assert out == ["We built a small garden shed"]


def test_first_cut_waits_for_the_word_to_be_complete() -> None:
    seg = Segmenter(first_chunk_min_words=3, first_chunk_max_words=6)
    assert seg.push("one two three four five for") == []  # "for" may still become "forest"
    assert seg.push("est ") == ["one two three four five forest"]  # no opener: cut after max words
    seg.reset()
    assert seg.push("one two three four five for") == []
    assert seg.push(" ") == ["one two three four five"]
    assert seg.finish() == ["for"]


def test_a_comma_still_wins_over_function_words() -> None:
    seg = Segmenter(first_chunk_min_words=3, first_chunk_max_words=10)
    out = seg.push("I think that the answer, which is long, is here ")
    assert out == ["I think that the answer,"]
