"""Kokoro-82M in MLX: ALBERT + prosody predictor + text encoder + iSTFTNet decoder.

Split in two stages so a synthesis can be abandoned between them: :meth:`Kokoro.prosody` (text ->
durations, F0, energy and aligned text features; cheap) and :meth:`Kokoro.vocode` (-> audio; most
of the time). Batch size is one, with no padding, so Kokoro's masks are all empty and left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from streamvoice.tts.mlx_kokoro_layers import AdainResBlk1d, AdaLayerNorm, BiLSTM, Conv1d
from streamvoice.tts.mlx_kokoro_vocoder import Decoder

VOCAB = 178
STYLE_DIM = 128
HIDDEN = 512


def gelu_tanh(x: mx.array) -> mx.array:
    """ALBERT's ``gelu_new`` (the graph's FastGelu): the tanh approximation."""
    return 0.5 * x * (1 + mx.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


class _Embeddings(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(VOCAB, 128)
        self.position_embeddings = nn.Embedding(512, 128)
        self.token_type_embeddings = nn.Embedding(2, 128)
        self.LayerNorm = nn.LayerNorm(128, eps=1e-12)

    def __call__(self, ids: mx.array) -> mx.array:
        positions = mx.arange(ids.shape[1])[None]
        x = self.word_embeddings(ids) + self.position_embeddings(positions) + self.token_type_embeddings.weight[0]
        return self.LayerNorm(x)


class _Attention(nn.Module):
    def __init__(self, dim: int = 768, heads: int = 12) -> None:
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value, self.dense = (nn.Linear(dim, dim) for _ in range(4))
        self.LayerNorm = nn.LayerNorm(dim, eps=1e-12)

    def __call__(self, x: mx.array) -> mx.array:
        b, t, dim = x.shape

        def split(y: mx.array) -> mx.array:
            return y.reshape(b, t, self.heads, dim // self.heads).transpose(0, 2, 1, 3)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        context = mx.fast.scaled_dot_product_attention(q, k, v, scale=1 / math.sqrt(dim // self.heads))
        context = context.transpose(0, 2, 1, 3).reshape(b, t, dim)
        return self.LayerNorm(x + self.dense(context))


class _AlbertLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attention = _Attention()
        self.ffn = nn.Linear(768, 2048)
        self.ffn_output = nn.Linear(2048, 768)
        self.full_layer_layer_norm = nn.LayerNorm(768, eps=1e-12)

    def __call__(self, x: mx.array) -> mx.array:
        x = self.attention(x)
        return self.full_layer_layer_norm(x + self.ffn_output(gelu_tanh(self.ffn(x))))


class _LayerGroup(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.albert_layers = [_AlbertLayer()]


class _Transformer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding_hidden_mapping_in = nn.Linear(128, 768)
        self.albert_layer_groups = [_LayerGroup()]


class Albert(nn.Module):
    """Kokoro's phoneme ALBERT: one shared layer applied 12 times."""

    def __init__(self) -> None:
        super().__init__()
        self.embeddings = _Embeddings()
        self.encoder = _Transformer()

    def __call__(self, ids: mx.array) -> mx.array:
        x = self.encoder.embedding_hidden_mapping_in(self.embeddings(ids))
        layer = self.encoder.albert_layer_groups[0].albert_layers[0]
        for _ in range(12):
            x = layer(x)
        return x


class _ChannelNorm(nn.Module):
    """Kokoro's LayerNorm over channels with ``gamma``/``beta`` names."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gamma = mx.ones((channels,))
        self.beta = mx.zeros((channels,))

    def __call__(self, x: mx.array) -> mx.array:
        return mx.fast.layer_norm(x, self.gamma, self.beta, 1e-5)


class TextEncoder(nn.Module):
    """Phonemes -> acoustic text features (embedding, 3 conv blocks, BiLSTM)."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, HIDDEN)
        self.cnn = [[Conv1d(HIDDEN, HIDDEN, 5, padding=2), _ChannelNorm(HIDDEN)] for _ in range(3)]
        self.lstm = BiLSTM(HIDDEN, HIDDEN // 2)

    def __call__(self, ids: mx.array) -> mx.array:
        x = self.embedding(ids)
        for conv, norm in self.cnn:
            x = nn.leaky_relu(norm(conv(x)), 0.2)
        return self.lstm(x)


class DurationEncoder(nn.Module):
    """BiLSTMs interleaved with style-conditioned layer norms, the style re-appended after each."""

    def __init__(self) -> None:
        super().__init__()
        self.lstms: list[nn.Module] = []
        for _ in range(3):
            self.lstms += [BiLSTM(HIDDEN + STYLE_DIM, HIDDEN // 2), AdaLayerNorm(STYLE_DIM, HIDDEN)]

    def __call__(self, x: mx.array, s: mx.array) -> mx.array:
        style = mx.broadcast_to(s[:, None, :], (x.shape[0], x.shape[1], STYLE_DIM))
        x = mx.concatenate([x, style], axis=-1)
        for block in self.lstms:
            is_norm = isinstance(block, AdaLayerNorm)
            x = mx.concatenate([block(x, s), style], axis=-1) if is_norm else block(x)
        return x


class _DurationProj(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear_layer = nn.Linear(HIDDEN, 50)


class ProsodyPredictor(nn.Module):
    """Durations per token, then F0 and energy curves at twice the frame rate."""

    def __init__(self) -> None:
        super().__init__()
        self.text_encoder = DurationEncoder()
        self.lstm = BiLSTM(HIDDEN + STYLE_DIM, HIDDEN // 2)
        self.duration_proj = _DurationProj()
        self.shared = BiLSTM(HIDDEN + STYLE_DIM, HIDDEN // 2)
        self.F0 = [AdainResBlk1d(512, 512), AdainResBlk1d(512, 256, upsample=True), AdainResBlk1d(256, 256)]
        self.N = [AdainResBlk1d(512, 512), AdainResBlk1d(512, 256, upsample=True), AdainResBlk1d(256, 256)]
        self.F0_proj = Conv1d(256, 1, 1)
        self.N_proj = Conv1d(256, 1, 1)

    def curves(self, aligned: mx.array, s: mx.array) -> tuple[mx.array, mx.array]:
        """F0 (Hz) and energy, each ``(1, 2*frames)``."""
        shared = self.shared(aligned)
        f0, n = shared, shared
        for block_f0, block_n in zip(self.F0, self.N, strict=True):
            f0, n = block_f0(f0, s), block_n(n, s)
        return self.F0_proj(f0)[..., 0], self.N_proj(n)[..., 0]


@dataclass(frozen=True, slots=True)
class Prosody:
    """The first stage's results, enough to vocode (all evaluated)."""

    durations: mx.array  # (tokens,) int32 frames of 600 samples, pads included, each >= 1
    asr: mx.array  # (1, frames, 512) text features repeated by duration
    f0: mx.array  # (1, 2*frames)
    energy: mx.array  # (1, 2*frames)
    style: mx.array  # (1, 128) the decoder's half of the voice style


class Kokoro(nn.Module):
    """The whole model; parameter names are Kokoro's (see :mod:`streamvoice.tts.mlx_kokoro_weights`)."""

    def __init__(self) -> None:
        super().__init__()
        self.bert = Albert()
        self.bert_encoder = nn.Linear(768, HIDDEN)
        self.predictor = ProsodyPredictor()
        self.text_encoder = TextEncoder()
        self.decoder = Decoder(STYLE_DIM)

    def prosody(self, ids: mx.array, style: mx.array, speed: float) -> Prosody:
        """``ids (1, tokens)`` with the pads, ``style (1, 256)`` -> durations, curves, features."""
        s = style[:, STYLE_DIM:]
        d_en = self.bert_encoder(self.bert(ids))
        d = self.predictor.text_encoder(d_en, s)
        logits = self.predictor.duration_proj.linear_layer(self.predictor.lstm(d))
        durations = mx.maximum(mx.round(mx.sigmoid(logits).sum(axis=-1)[0] / speed), 1).astype(mx.int32)
        mx.eval(durations)
        index = mx.array(np.repeat(np.arange(ids.shape[1]), np.array(durations)))  # token of each frame
        f0, energy = self.predictor.curves(d[:, index], s)
        asr = self.text_encoder(ids)[:, index]
        mx.eval(f0, energy, asr)
        return Prosody(durations, asr, f0, energy, style[:, :STYLE_DIM])

    def features(self, p: Prosody) -> mx.array:
        """The decoder's body (second stage): vocoder input features."""
        return self.decoder.body(p.asr, p.f0, p.energy, p.style)

    def vocode(self, p: Prosody, features: mx.array) -> mx.array:
        """The generator (third stage): ``(samples,)`` float32 at 24 kHz, 600 per frame."""
        return self.decoder.generator(features, p.style, p.f0)
