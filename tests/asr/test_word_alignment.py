"""Word timing from an attention matrix (shared by every backend): DTW, word boundaries, punctuation."""

from __future__ import annotations

import numpy as np

from streamvoice.asr.word_alignment import (
    alignment_matrix,
    dtw_path,
    merge_punctuation,
    words_after_prefix,
    words_from_path,
)


class _Tok:
    """Words are tokens; token i is word i (a leading space marks a word start), eot is 99."""

    eot = 99

    def __init__(self, words: list[str]) -> None:
        self.words = words

    def split_to_word_tokens(self, tokens: list[int]) -> tuple[list[str], list[list[int]]]:
        return [self.words[t] if t != self.eot else "<eot>" for t in tokens], [[t] for t in tokens]

    def decode(self, tokens: list[int]) -> str:
        return "".join(self.words[t] for t in tokens)


def test_dtw_follows_the_cheap_cells_monotonically() -> None:
    cost = np.ones((3, 9))
    for token, frames in enumerate([(0, 3), (3, 6), (6, 9)]):
        cost[token, frames[0] : frames[1]] = 0.0
    tokens, frames = dtw_path(cost)
    assert tokens[0] == 0 and frames[0] == 0 and tokens[-1] == 2 and frames[-1] == 8
    assert np.all(np.diff(tokens) >= 0) and np.all(np.diff(frames) >= 0)
    starts = [int(frames[np.argmax(tokens == t)]) for t in range(3)]
    assert starts == [0, 3, 6]


def test_alignment_matrix_standardises_and_averages_heads() -> None:
    weights = np.random.default_rng(0).random((2, 4, 20))
    matrix = alignment_matrix(weights)
    assert matrix.shape == (4, 20)
    assert np.all(np.isfinite(matrix))


def test_words_from_path_times_and_probabilities() -> None:
    tok = _Tok([" one", " two", " three"])
    token_index = np.array([0, 0, 1, 1, 2, 3, 3])
    frame_index = np.array([0, 1, 2, 3, 4, 5, 6])
    probs = np.array([0.9, 0.8, 0.7])
    words = words_from_path(tok, [0, 1, 2], token_index, frame_index, probs)
    assert [w["word"] for w in words] == [" one", " two", " three"]
    assert [(w["start"], w["end"]) for w in words] == [(0.0, 0.04), (0.04, 0.08), (0.08, 0.1)]
    assert [w["probability"] for w in words] == [0.9, 0.8, 0.7]


def test_punctuation_joins_its_word() -> None:
    alignment = [{"word": w, "tokens": [i]} for i, w in enumerate([" (", "hello", ",", " world", "."])]
    merge_punctuation(alignment)
    assert [a["word"] for a in alignment] == ["", " (hello,", "", " world.", ""]


def test_words_after_prefix_keeps_the_rest_of_a_continued_word() -> None:
    tok = _Tok([" fourteen", "%", " percent", " up"])
    alignment = [
        {"word": " fourteen%", "tokens": [0, 1], "start": 0.0, "end": 0.5, "probability": 0.9},
        {"word": " up", "tokens": [3], "start": 0.5, "end": 0.8, "probability": 0.8},
    ]
    words = words_after_prefix(tok, alignment, n_prefix=1, offset=10.0)
    assert [(w.word, w.start_s, w.end_s) for w in words] == [("%", 10.0, 10.5), ("up", 10.5, 10.8)]
