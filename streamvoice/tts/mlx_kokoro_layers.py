"""Kokoro's building blocks in MLX, channel-last (``(batch, time, channels)``), float32.

Names follow Kokoro's PyTorch modules so :mod:`streamvoice.tts.mlx_kokoro_weights` loads into them
strictly. Two departures, both for MLX's CPU backend on Linux: a dilated convolution runs as a
plain one over the ``dilation`` interleaved phases of its input (MLX's own dilated conv1d takes a
slow path there), and the LSTM is written out (MLX has no bidirectional LSTM with PyTorch's
weight names).
"""

from __future__ import annotations

import math

import mlx.core as mx
import mlx.nn as nn


def dilated_conv1d(x: mx.array, weight: mx.array, padding: int, dilation: int) -> mx.array:
    """``conv1d(x, weight, padding=padding, dilation=dilation)`` as a plain conv over input phases.

    Output sample ``q*d + r`` only reads input samples ``r, r+d, r+2d, ...``: split the padded
    input into its ``d`` phases, convolve each without dilation, and interleave the results."""
    n, length, c = x.shape
    k = weight.shape[1]
    xp = mx.pad(x, [(0, 0), (padding, padding), (0, 0)])
    padded = length + 2 * padding
    out_len = padded - dilation * (k - 1)
    extra = (-padded) % dilation
    if extra:
        xp = mx.pad(xp, [(0, 0), (0, extra), (0, 0)])
    m = (padded + extra) // dilation
    phases = xp.reshape(n, m, dilation, c).transpose(0, 2, 1, 3).reshape(n * dilation, m, c)
    y = mx.conv1d(phases, weight)
    q = y.shape[1]
    y = y.reshape(n, dilation, q, -1).transpose(0, 2, 1, 3).reshape(n, q * dilation, -1)
    return y[:, :out_len]


class Conv1d(nn.Module):
    """``weight (out, kernel, in/groups)``; same padding arithmetic as PyTorch's Conv1d."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 0,
                 dilation: int = 1, bias: bool = True) -> None:
        super().__init__()
        self.weight = mx.zeros((c_out, kernel, c_in))
        if bias:
            self.bias = mx.zeros((c_out,))
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def __call__(self, x: mx.array) -> mx.array:
        if self.dilation > 1:
            y = dilated_conv1d(x, self.weight, self.padding, self.dilation)
        else:
            y = mx.conv1d(x, self.weight, stride=self.stride, padding=self.padding)
        return y + self.bias if "bias" in self else y


class ConvTranspose1d(nn.Module):
    """``weight (out, kernel, in/groups)``; PyTorch's ConvTranspose1d output length."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int,
                 output_padding: int = 0, groups: int = 1) -> None:
        super().__init__()
        self.weight = mx.zeros((c_out, kernel, c_in // groups))
        self.bias = mx.zeros((c_out,))
        self.stride, self.padding, self.output_padding, self.groups = stride, padding, output_padding, groups

    def __call__(self, x: mx.array) -> mx.array:
        k = self.weight.shape[1]
        if self.groups == 1 and k % self.stride == 0 and self.output_padding == 0:
            y = overlap_add_transpose(x, self.weight, self.stride, self.padding)
        else:
            y = mx.conv_transpose1d(x, self.weight, stride=self.stride, padding=self.padding,
                                    output_padding=self.output_padding, groups=self.groups)
        return y + self.bias


def overlap_add_transpose(x: mx.array, weight: mx.array, stride: int, padding: int) -> mx.array:
    """``conv_transpose1d`` for a kernel that is a whole number of strides long, as one matmul.

    Each input step writes ``kernel`` outputs starting ``stride`` after the previous one: compute
    them all with one matmul, then add the ``kernel / stride`` shifted blocks. MLX's CPU
    conv_transpose1d took ~300x longer for the vocoder's upsampling layers here."""
    n, length, _ = x.shape
    c_out, k, _ = weight.shape
    parts = k // stride
    pieces = (x @ weight.reshape(c_out * k, -1).T).reshape(n, length, c_out, parts, stride)
    pieces = pieces.transpose(0, 1, 3, 4, 2)  # (n, L, part, step, c_out)
    out = mx.pad(pieces[:, :, 0], [(0, 0), (0, parts - 1), (0, 0), (0, 0)])
    for j in range(1, parts):
        out = out + mx.pad(pieces[:, :, j], [(0, 0), (j, parts - 1 - j), (0, 0), (0, 0)])
    out = out.reshape(n, (length + parts - 1) * stride, c_out)
    return out[:, padding : out.shape[1] - padding]


class BiLSTM(nn.Module):
    """A one-layer bidirectional LSTM with PyTorch's parameter names and gate order (i, f, g, o)."""

    def __init__(self, n_in: int, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden
        for suffix in ("", "_reverse"):
            setattr(self, f"weight_ih_l0{suffix}", mx.zeros((4 * hidden, n_in)))
            setattr(self, f"weight_hh_l0{suffix}", mx.zeros((4 * hidden, hidden)))
            setattr(self, f"bias_ih_l0{suffix}", mx.zeros((4 * hidden,)))
            setattr(self, f"bias_hh_l0{suffix}", mx.zeros((4 * hidden,)))

    def __call__(self, x: mx.array) -> mx.array:
        """``(1, T, n_in)`` -> ``(1, T, 2*hidden)``: forward states, then backward ones."""
        seq = x[0]
        steps = seq.shape[0]
        fwd = seq @ self.weight_ih_l0.T + self.bias_ih_l0 + self.bias_hh_l0
        bwd = seq[::-1] @ self.weight_ih_l0_reverse.T + self.bias_ih_l0_reverse + self.bias_hh_l0_reverse
        inputs = mx.stack([fwd, bwd], axis=1)  # (T, 2, 4h): both directions advance together
        recurrent = mx.stack([self.weight_hh_l0.T, self.weight_hh_l0_reverse.T])  # (2, h, 4h)
        h = mx.zeros((2, 1, self.hidden))
        c = mx.zeros((2, 1, self.hidden))
        outs = []
        for t in range(steps):
            gates = inputs[t][:, None, :] + h @ recurrent
            i, f, g, o = mx.split(gates, 4, axis=-1)
            c = mx.sigmoid(f) * c + mx.sigmoid(i) * mx.tanh(g)
            h = mx.sigmoid(o) * mx.tanh(c)
            outs.append(h[:, 0, :])
        states = mx.stack(outs)  # (T, 2, h)
        return mx.concatenate([states[:, 0], states[::-1, 1]], axis=-1)[None]


def instance_norm(x: mx.array, eps: float = 1e-5) -> mx.array:
    """Per channel over time (InstanceNorm1d, biased variance)."""
    mean = x.mean(axis=1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
    return (x - mean) / mx.sqrt(var + eps)


def layer_norm(x: mx.array, eps: float = 1e-5) -> mx.array:
    """Over channels, without affine parameters."""
    return mx.fast.layer_norm(x, None, None, eps)


def _snake(x: mx.array, alpha: mx.array) -> mx.array:
    """``x + sin(alpha*x)**2 / alpha`` with sin as a polynomial after reduction by pi (sin**2 has
    period pi): compiled into one vectorised kernel it ran 14x faster than ``mx.sin`` on MLX's CPU
    backend for the vocoder's 15600x128 tensors, within 2e-6 of it."""
    z = alpha * x
    k = mx.round(z * (1 / math.pi))
    r = (z - k * 3.140625) - k * 9.676535897932795e-04  # pi split in two (Cody-Waite): exact k*pi
    r2 = r * r
    sin = r * (1 + r2 * (-1 / 6 + r2 * (1 / 120 + r2 * (-1 / 5040 + r2 * (1 / 362880 + r2 * (-1 / 39916800))))))
    return x + (sin * sin) / alpha


def _adain(x: mx.array, gamma: mx.array, beta: mx.array) -> mx.array:
    return (1 + gamma) * instance_norm(x) + beta


# Pure functions compiled once (shape-independent): elementwise chains fused into one kernel each.
snake = mx.compile(_snake, shapeless=True)
adain = mx.compile(_adain, shapeless=True)


class AdaIN1d(nn.Module):
    """Instance norm scaled and shifted by the style (``fc`` gives 1+gamma and beta)."""

    def __init__(self, style_dim: int, channels: int) -> None:
        super().__init__()
        self.fc = nn.Linear(style_dim, 2 * channels)

    def __call__(self, x: mx.array, s: mx.array) -> mx.array:
        gamma, beta = mx.split(self.fc(s)[:, None, :], 2, axis=-1)
        return adain(x, gamma, beta)


class AdaLayerNorm(nn.Module):
    """Layer norm over channels scaled and shifted by the style (the duration encoder's norm)."""

    def __init__(self, style_dim: int, channels: int) -> None:
        super().__init__()
        self.fc = nn.Linear(style_dim, 2 * channels)

    def __call__(self, x: mx.array, s: mx.array) -> mx.array:
        gamma, beta = mx.split(self.fc(s)[:, None, :], 2, axis=-1)
        return (1 + gamma) * layer_norm(x) + beta


class AdainResBlk1d(nn.Module):
    """Residual block with style-conditioned norms; ``upsample`` doubles the time axis."""

    def __init__(self, dim_in: int, dim_out: int, style_dim: int = 128, upsample: bool = False) -> None:
        super().__init__()
        self.upsample = upsample
        self.conv1 = Conv1d(dim_in, dim_out, 3, padding=1)
        self.conv2 = Conv1d(dim_out, dim_out, 3, padding=1)
        self.norm1 = AdaIN1d(style_dim, dim_in)
        self.norm2 = AdaIN1d(style_dim, dim_out)
        if dim_in != dim_out:
            self.conv1x1 = Conv1d(dim_in, dim_out, 1, bias=False)
        if upsample:
            self.pool = ConvTranspose1d(dim_in, dim_in, 3, stride=2, padding=1, output_padding=1, groups=dim_in)

    def __call__(self, x: mx.array, s: mx.array) -> mx.array:
        residual = nn.leaky_relu(self.norm1(x, s), 0.2)
        if self.upsample:
            residual = self.pool(residual)
        residual = self.conv1(residual)
        residual = self.conv2(nn.leaky_relu(self.norm2(residual, s), 0.2))
        shortcut = mx.repeat(x, 2, axis=1) if self.upsample else x
        if "conv1x1" in self:
            shortcut = self.conv1x1(shortcut)
        return (residual + shortcut) / math.sqrt(2)




class AdaINResBlock1(nn.Module):
    """The vocoder's residual block: three dilated conv pairs with Snake activations."""

    def __init__(self, channels: int, kernel: int, dilations: tuple[int, ...], style_dim: int = 128) -> None:
        super().__init__()
        self.convs1 = [Conv1d(channels, channels, kernel, padding=d * (kernel - 1) // 2, dilation=d) for d in dilations]
        self.convs2 = [Conv1d(channels, channels, kernel, padding=(kernel - 1) // 2) for _ in dilations]
        self.adain1 = [AdaIN1d(style_dim, channels) for _ in dilations]
        self.adain2 = [AdaIN1d(style_dim, channels) for _ in dilations]
        self.alpha1 = [mx.ones((channels,)) for _ in dilations]
        self.alpha2 = [mx.ones((channels,)) for _ in dilations]

    def __call__(self, x: mx.array, s: mx.array) -> mx.array:
        for c1, c2, n1, n2, a1, a2 in zip(self.convs1, self.convs2, self.adain1, self.adain2, self.alpha1,
                                          self.alpha2, strict=True):
            xt = c1(snake(n1(x, s), a1))
            xt = c2(snake(n2(xt, s), a2))
            x = x + xt
        return x
