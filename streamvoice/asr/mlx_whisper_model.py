"""Whisper's transformer in MLX, shaped for streaming decodes (layer 2: synchronous).

Module names follow the CTranslate2 weights they are converted from
(:mod:`streamvoice.models.mlx_whisper_convert`): fused query/key/value projections in
self-attention, a fused key/value projection in cross-attention. The encoder takes any width up to
30 s (adaptive windows, as CTranslate2 allows). The decoder's caches are plain values passed in
and returned: a self-attention key/value per block that grows by the tokens fed, and a
cross-attention key/value per block computed once per encoder output, so a beam can reorder
them with one ``take`` and a window encoded once serves every decode. Optionally returns the
cross-attention weights, which word timing aligns over.
"""

from __future__ import annotations

from dataclasses import dataclass

import mlx.core as mx
import mlx.nn as nn

KV = tuple[mx.array, mx.array]


@dataclass(frozen=True, slots=True)
class WhisperDims:
    n_mels: int
    n_audio_ctx: int
    n_audio_state: int
    n_audio_head: int
    n_audio_layer: int
    n_vocab: int
    n_text_ctx: int
    n_text_state: int
    n_text_head: int
    n_text_layer: int


def _heads(x: mx.array, n_head: int) -> mx.array:
    """(batch, time, state) -> (batch, head, time, state / head)."""
    b, t, d = x.shape
    return x.reshape(b, t, n_head, d // n_head).transpose(0, 2, 1, 3)


def _merge(x: mx.array) -> mx.array:
    b, h, t, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, t, h * d)


def _attend(q: mx.array, k: mx.array, v: mx.array, mask: mx.array | None, weights: bool
            ) -> tuple[mx.array, mx.array | None]:
    scale = q.shape[-1] ** -0.5
    qk = (q * scale) @ k.transpose(0, 1, 3, 2)
    if mask is not None:
        qk = qk + mask
    w = mx.softmax(qk, axis=-1, precise=True)
    return _merge(w @ v), (qk if weights else None)


class SelfAttention(nn.Module):
    def __init__(self, state: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(state, 3 * state)
        self.out = nn.Linear(state, state)

    def __call__(self, x: mx.array, mask: mx.array | None, cache: KV | None) -> tuple[mx.array, KV]:
        q, k, v = (_heads(part, self.n_head) for part in mx.split(self.qkv(x), 3, axis=-1))
        if cache is not None:
            k, v = mx.concatenate([cache[0], k], axis=2), mx.concatenate([cache[1], v], axis=2)
        out, _ = _attend(q, k, v, mask, weights=False)
        return self.out(out), (k, v)


class CrossAttention(nn.Module):
    def __init__(self, state: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.query = nn.Linear(state, state)
        self.kv = nn.Linear(state, 2 * state)
        self.out = nn.Linear(state, state)

    def keys_values(self, audio: mx.array) -> KV:
        k, v = mx.split(self.kv(audio), 2, axis=-1)
        return _heads(k, self.n_head), _heads(v, self.n_head)

    def __call__(self, x: mx.array, kv: KV, weights: bool) -> tuple[mx.array, mx.array | None]:
        out, qk = _attend(_heads(self.query(x), self.n_head), kv[0], kv[1], None, weights)
        return self.out(out), qk


class _Mlp(nn.Module):
    def __init__(self, state: int) -> None:
        super().__init__()
        self.mlp_ln = nn.LayerNorm(state)
        self.mlp1 = nn.Linear(state, 4 * state)
        self.mlp2 = nn.Linear(4 * state, state)

    def mlp(self, x: mx.array) -> mx.array:
        return self.mlp2(nn.gelu(self.mlp1(self.mlp_ln(x))))


class EncoderBlock(_Mlp):
    def __init__(self, state: int, n_head: int) -> None:
        super().__init__(state)
        self.attn_ln = nn.LayerNorm(state)
        self.attn = SelfAttention(state, n_head)

    def __call__(self, x: mx.array) -> mx.array:
        x = x + self.attn(self.attn_ln(x), None, None)[0]
        return x + self.mlp(x)


class DecoderBlock(_Mlp):
    def __init__(self, state: int, n_head: int) -> None:
        super().__init__(state)
        self.attn_ln = nn.LayerNorm(state)
        self.attn = SelfAttention(state, n_head)
        self.cross_ln = nn.LayerNorm(state)
        self.cross = CrossAttention(state, n_head)

    def __call__(self, x: mx.array, cross_kv: KV, mask: mx.array | None, cache: KV | None, weights: bool
                 ) -> tuple[mx.array, KV, mx.array | None]:
        y, cache = self.attn(self.attn_ln(x), mask, cache)
        x = x + y
        y, qk = self.cross(self.cross_ln(x), cross_kv, weights)
        x = x + y
        return x + self.mlp(x), cache, qk


class AudioEncoder(nn.Module):
    def __init__(self, dims: WhisperDims) -> None:
        super().__init__()
        state = dims.n_audio_state
        self.conv1 = nn.Conv1d(dims.n_mels, state, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(state, state, kernel_size=3, stride=2, padding=1)
        self.positions = mx.zeros((dims.n_audio_ctx, state))
        self.blocks = [EncoderBlock(state, dims.n_audio_head) for _ in range(dims.n_audio_layer)]
        self.ln_post = nn.LayerNorm(state)

    def __call__(self, mel: mx.array) -> mx.array:
        """(batch, frames, n_mels) log-mel -> (batch, frames / 2, state)."""
        x = nn.gelu(self.conv2(nn.gelu(self.conv1(mel))))
        x = x + self.positions[: x.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.ln_post(x)


class TextDecoder(nn.Module):
    def __init__(self, dims: WhisperDims) -> None:
        super().__init__()
        state = dims.n_text_state
        self.embed = nn.Embedding(dims.n_vocab, state)
        self.positions = mx.zeros((dims.n_text_ctx, state))
        self.blocks = [DecoderBlock(state, dims.n_text_head) for _ in range(dims.n_text_layer)]
        self.ln = nn.LayerNorm(state)

    def cross_kv(self, audio: mx.array) -> list[KV]:
        return [block.cross.keys_values(audio) for block in self.blocks]

    def __call__(self, tokens: mx.array, cross_kv: list[KV], cache: list[KV] | None = None,
                 weights: bool = False) -> tuple[mx.array, list[KV], list[mx.array | None]]:
        """Logits of each position of ``tokens`` (batch, n), fed after the ``cache`` positions;
        the new cache; with ``weights``, each block's cross-attention logits (batch, head, n, frames)."""
        offset = 0 if cache is None else cache[0][0].shape[2]
        n = tokens.shape[-1]
        x = self.embed(tokens) + self.positions[offset : offset + n]
        mask = None
        if n > 1:
            mask = nn.MultiHeadAttention.create_additive_causal_mask(offset + n)[offset:].astype(x.dtype)
        new_cache: list[KV] = []
        qks: list[mx.array | None] = []
        for i, block in enumerate(self.blocks):
            x, kv, qk = block(x, cross_kv[i], mask, None if cache is None else cache[i], weights)
            new_cache.append(kv)
            qks.append(qk)
        return self.embed.as_linear(self.ln(x)), new_cache, qks


class Whisper(nn.Module):
    def __init__(self, dims: WhisperDims) -> None:
        super().__init__()
        self.dims = dims
        self.encoder = AudioEncoder(dims)
        self.decoder = TextDecoder(dims)
