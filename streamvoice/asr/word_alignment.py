"""Word times from cross-attention: the alignment-head matrix, DTW, and words from the path.

Whisper's timing method (Radford et al., the alignment heads of each model): the cross-attention
of chosen decoder heads, standardised per frame and median-filtered, says which audio frames each
text token attended to; the cheapest monotonic path through it (dynamic time warping) gives each
token a start frame; a word starts at its first token's frame and ends at the next word's. The
engine computes the attention; everything after it is here, shared by every backend, and the
assembly of :class:`~streamvoice.asr.events.Word` values (the words after a forced prefix,
punctuation merged into its word) is here too. Pure numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from streamvoice.asr.events import Word

SECONDS_PER_FRAME = 0.02  # one encoder output frame (two 10 ms mel frames)
MEDIAN_WIDTH = 7  # of the filter over the attention matrix, in encoder frames
PREPEND = "\"'“¿([{-"
APPEND = "\"'.。,，!！?？:：”)]}、"


def alignment_matrix(weights: np.ndarray, median_width: int = MEDIAN_WIDTH) -> np.ndarray:
    """(heads, tokens, frames) attention probabilities -> (tokens, frames) mean of the heads, each
    standardised over tokens per frame and median-filtered along time."""
    std = weights.std(axis=-2, keepdims=True)
    w = (weights - weights.mean(axis=-2, keepdims=True)) / np.where(std > 0, std, 1.0)
    half = median_width // 2
    if w.shape[-1] > half:
        padded = np.pad(w, [(0, 0), (0, 0), (half, half)], mode="reflect")
        w = np.median(np.lib.stride_tricks.sliding_window_view(padded, median_width, axis=-1), axis=-1)
    return np.asarray(w.mean(axis=0))


def dtw_path(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cheapest monotonic path from (0, 0) to the last (token, frame) cell, moving one token,
    one frame or both per step; returns the token and frame index of each step. Cells on one
    anti-diagonal depend only on the two before it, so each diagonal is one vector operation."""
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    move = np.zeros((n + 1, m + 1), dtype=np.int8)  # 0 diagonal, 1 token, 2 frame
    for d in range(2, n + m + 1):
        i = np.arange(max(1, d - m), min(n, d - 1) + 1)
        j = d - i
        options = np.stack([acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1]])
        choice = options.argmin(axis=0)
        acc[i, j] = cost[i - 1, j - 1] + options[choice, np.arange(len(i))]
        move[i, j] = choice
    move[0, :], move[:, 0] = 2, 1
    i, j, tokens, frames = n, m, [], []
    while i > 0 or j > 0:
        tokens.append(i - 1)
        frames.append(j - 1)
        step = move[i, j]
        i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
    return np.array(tokens[::-1]), np.array(frames[::-1])


def words_from_path(tok: Any, text_tokens: list[int], token_index: np.ndarray, frame_index: np.ndarray,
                    token_probs: np.ndarray) -> list[dict[str, Any]]:
    """Word dicts (word, tokens, start, end, probability; times in seconds from the window start)
    from a DTW path over ``text_tokens`` + end-of-text."""
    words, word_tokens = tok.split_to_word_tokens([*text_tokens, tok.eot])
    if len(word_tokens) <= 1:
        return []
    bounds = np.pad(np.cumsum([len(t) for t in word_tokens[:-1]]), (1, 0))
    jumps = np.pad(np.diff(token_index), (1, 0), constant_values=1).astype(bool)
    times = frame_index[jumps] * SECONDS_PER_FRAME
    return [
        {"word": w, "tokens": t, "start": float(times[a]), "end": float(times[b]),
         "probability": float(np.mean(token_probs[a:b]))}
        for w, t, a, b in zip(words[:-1], word_tokens[:-1], bounds[:-1], bounds[1:], strict=True)
    ]


def even_alignment(tok: Any, tokens: list[int], num_frames: int) -> list[dict[str, Any]]:
    """Word times spread evenly over the audio when cross-attention alignment fails."""
    words, word_tokens = tok.split_to_word_tokens(tokens)
    step = max(num_frames, 1) / 100.0 / max(len(words), 1)
    return [
        {"word": w, "tokens": t, "start": i * step, "end": (i + 1) * step, "probability": 0.0}
        for i, (w, t) in enumerate(zip(words, word_tokens, strict=True))
    ]


def merge_punctuation(alignment: list[dict[str, Any]]) -> None:
    """Fold opening marks into the word after them and closing marks into the word before (in place)."""
    following = len(alignment) - 1
    for i in range(len(alignment) - 2, -1, -1):
        before, after = alignment[i], alignment[following]
        if before["word"].startswith(" ") and before["word"].strip() in PREPEND:
            after["word"], after["tokens"] = before["word"] + after["word"], before["tokens"] + after["tokens"]
            before["word"], before["tokens"] = "", []
        else:
            following = i
    previous = 0
    for j in range(1, len(alignment)):
        before, after = alignment[previous], alignment[j]
        if not before["word"].endswith(" ") and after["word"] in APPEND:
            before["word"], before["tokens"] = before["word"] + after["word"], before["tokens"] + after["tokens"]
            after["word"], after["tokens"] = "", []
        else:
            previous = j


def words_after_prefix(tok: Any, alignment: list[dict[str, Any]], n_prefix: int, offset: float) -> tuple[Word, ...]:
    """The words after the first ``n_prefix`` tokens, in stream time. A decode that continued the
    last committed word ("14" + "%,") keeps the rest of that word as a word of its own."""
    first_new, position, carried = len(alignment), 0, []
    for i, a in enumerate(alignment):
        if position >= n_prefix:
            first_new = i
            break
        end = position + len(a["tokens"])
        if end > n_prefix:
            rest = a["tokens"][n_prefix - position :]
            carried, first_new = [dict(a, word=tok.decode(rest), tokens=rest)], i + 1
            break
        position = end
    new = carried + alignment[first_new:]
    merge_punctuation(new)
    return tuple(
        Word(word=a["word"].strip(), start_s=round(offset + float(a["start"]), 3),
             end_s=round(offset + float(a["end"]), 3), probability=float(a["probability"]))
        for a in new
        if a["word"].strip()
    )
