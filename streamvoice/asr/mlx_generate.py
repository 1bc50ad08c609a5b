"""Token generation on the MLX Whisper decoder: beam search, or sampling for hot fallbacks.

The prompt is fed once; each step then feeds one token per live hypothesis with the key/value
cache, which a beam reorders by taking rows. Scores are summed log-probabilities; finished
hypotheses are ranked by their mean per token (CTranslate2's length penalty of 1), and the search
stops when as many have finished as the beam is wide (an ending counts only while it ranks
among the beam's best continuations). Token choice runs in numpy on the
last-position logits (one row per hypothesis). Layer 2: synchronous.
"""

from __future__ import annotations

from dataclasses import dataclass

import mlx.core as mx
import numpy as np

from streamvoice.asr.mlx_whisper_model import KV, TextDecoder

_SEED = 1234  # sampled fallbacks are repeatable run to run


@dataclass(frozen=True, slots=True)
class SearchRules:
    """Which tokens may be generated: ``banned`` always, ``banned_first`` also at the first step."""

    eot: int
    banned: np.ndarray  # int ids
    banned_first: np.ndarray  # the blank and end-of-text: a decode may not start with nothing
    no_speech: int | None  # id of <|nospeech|>, read at the start-of-transcript position


@dataclass(frozen=True, slots=True)
class Searched:
    tokens: list[int]  # generated, end-of-text excluded
    sum_logprob: float  # including the end-of-text when it was reached
    no_speech_prob: float


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    return np.asarray(x - np.log(np.exp(x).sum(axis=-1, keepdims=True)))


def _reorder(cache: list[KV], rows: list[int]) -> list[KV]:
    index = mx.array(rows)
    return [(mx.take(k, index, axis=0), mx.take(v, index, axis=0)) for k, v in cache]


def search(decoder: TextDecoder, cross_kv: list[KV], prompt: list[int], sot_index: int, rules: SearchRules,
           beam: int, temperature: float, max_length: int) -> Searched:
    """Generate after ``prompt`` until end-of-text or ``max_length`` total tokens."""
    logits, cache, _ = decoder(mx.array([prompt]), cross_kv)
    no_speech = 0.0
    if rules.no_speech is not None:
        no_speech = float(np.exp(_log_softmax(np.array(logits[0, sot_index].astype(mx.float32))))[rules.no_speech])
    last = np.array(logits[:, -1].astype(mx.float32))
    rng = np.random.default_rng(_SEED)
    alive: list[tuple[list[int], float]] = [([], 0.0)]
    finished: list[tuple[list[int], float]] = []
    width = max(1, beam)
    while True:
        last[:, rules.banned] = -np.inf
        if not alive[0][0]:
            last[:, rules.banned_first] = -np.inf
        logprobs = _log_softmax(last)
        if temperature > 0:  # one hypothesis, sampled from the tempered distribution
            p = np.exp(_log_softmax(last[0] / temperature))
            token = int(rng.choice(len(p), p=p / p.sum()))
            choices = [(0, token, alive[0][1] + float(logprobs[0, token]))]
        else:
            total = (np.array([s for _, s in alive])[:, None] + logprobs).ravel()
            top = np.argpartition(-total, min(2 * width, total.size - 1))[: 2 * width]
            top = top[np.argsort(-total[top])]
            choices = [(int(i) // logprobs.shape[1], int(i) % logprobs.shape[1], float(total[i])) for i in top]
        rows, next_alive = [], []
        for row, token, score in choices:  # best first; an ending counts only if it ranks among the beam
            if token == rules.eot:
                finished.append((alive[row][0], score))
            else:
                rows.append(row)
                next_alive.append(([*alive[row][0], token], score))
            if len(next_alive) == width:
                break
        full = len(prompt) + (len(next_alive[0][0]) if next_alive else 0) >= max_length
        if len(finished) >= width or not next_alive or full:
            finished.extend(next_alive if len(finished) < width else [])
            break
        alive = next_alive
        cache = _reorder(cache, rows)
        step = mx.array([[seq[-1]] for seq, _ in alive])
        logits, cache, _ = decoder(step, cross_kv, cache)
        last = np.array(logits[:, -1].astype(mx.float32))
    tokens, score = max(finished, key=lambda f: f[1] / (len(f[0]) + 1))
    return Searched(tokens, score, no_speech)
