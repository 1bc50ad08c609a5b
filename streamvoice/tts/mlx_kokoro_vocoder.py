"""Kokoro's decoder and iSTFTNet vocoder in MLX, computing what the installed ONNX graph computes.

The graph was exported without the vocoder's randomness (no random initial phase, no noise in the
harmonic source), and its inverse STFT divides only the first 20 samples by the window sum (a
constant fixed at export). Both are kept here on purpose: the point is parity with the ONNX
backend, whose audio users already hear.

One difference is left, measured: where the source is constant (unvoiced stretches) most STFT bins
have zero magnitude and their phase is floating-point round-off, different for ONNX's FFT and the
DFT matmul here; the noise branch reads those phases, so waveforms differ (one sentence: RMS 18 %
lower) while durations, F0, energy and decoder features agree, and given ONNX's source spectrum
the generator and inverse STFT reproduce the float graph's audio to 7e-5.
"""

from __future__ import annotations

import math

import mlx.core as mx
import mlx.nn as nn

from streamvoice.tts.mlx_kokoro_layers import AdainResBlk1d, AdaINResBlock1, Conv1d, ConvTranspose1d

SAMPLE_RATE = 24_000
UPSAMPLE = 300  # vocoder samples per F0 value (upsample rates 10 * 6 * hop 5)
N_FFT, HOP = 20, 5
HARMONICS = 9
VOICED_HZ = 10.0


class SourceModule(nn.Module):
    """Harmonic sine source from the F0 curve (SourceModuleHnNSF, deterministic as exported)."""

    def __init__(self) -> None:
        super().__init__()
        self.l_linear = nn.Linear(HARMONICS, 1)

    def __call__(self, f0: mx.array) -> mx.array:
        """``(1, n)`` F0 in Hz -> ``(1, n*300)`` source signal."""
        n = f0.shape[1]
        harmonics = mx.arange(1, HARMONICS + 1, dtype=mx.float32)
        rad = f0[..., None] * harmonics / SAMPLE_RATE
        rad = rad - mx.floor(rad)
        phase = ((mx.cumsum(rad, axis=1) * 2.0) * math.pi) * UPSAMPLE  # (1, n, 9) at the F0 rate
        pos = mx.clip((mx.arange(n * UPSAMPLE, dtype=mx.float32) + 0.5) / UPSAMPLE - 0.5, 0, n - 1)
        i0 = mx.floor(pos).astype(mx.int32)
        i1 = mx.minimum(i0 + 1, n - 1)
        w = (pos - i0.astype(mx.float32))[None, :, None]
        phase = phase[:, i0] * (1 - w) + phase[:, i1] * w  # linear upsampling, half-pixel centres
        voiced = (mx.repeat(f0, UPSAMPLE, axis=1) > VOICED_HZ).astype(mx.float32)[..., None]
        sines = mx.sin(phase) * 0.1 * voiced
        return mx.tanh(self.l_linear(sines))[..., 0]


class Stft(nn.Module):
    """Magnitude and phase of the source (torch.stft, centred with reflect padding, onesided)."""

    def __init__(self) -> None:
        super().__init__()
        self.window = mx.zeros((N_FFT,))

    def __call__(self, x: mx.array) -> tuple[mx.array, mx.array]:
        """``(1, L)`` -> magnitude and phase, each ``(1, L/5+1, 11)``."""
        half = N_FFT // 2
        sig = x[0]
        length = sig.shape[0]
        padded = mx.concatenate([sig[1 : half + 1][::-1], sig, sig[length - half - 1 : length - 1][::-1]])
        frames = (padded.shape[0] - N_FFT) // HOP + 1
        idx = mx.arange(frames)[:, None] * HOP + mx.arange(N_FFT)[None, :]
        n = mx.arange(N_FFT, dtype=mx.float32)[:, None]
        k = mx.arange(N_FFT // 2 + 1, dtype=mx.float32)[None, :]
        angle = 2 * math.pi * n * k / N_FFT
        windowed = padded[idx] * self.window
        re = windowed @ mx.cos(angle)
        im = -(windowed @ mx.sin(angle))
        magnitude = mx.sqrt(re * re + im * im)
        base = mx.arctan(im / re)  # the graph's atan2: quadrant fixed only where re < 0
        phase = mx.where(re < 0, mx.where(im > 0, base + math.pi, base - math.pi), base)
        return magnitude[None], phase[None]


class Istft(nn.Module):
    """Inverse STFT as the graph does it: inverse basis overlap-added, x4, 10 samples trimmed each side."""

    def __init__(self) -> None:
        super().__init__()
        self.inverse_basis = mx.zeros((1, N_FFT, N_FFT + 2))
        self.window_sum = mx.zeros((N_FFT,))

    def __call__(self, magnitude: mx.array, phase: mx.array) -> mx.array:
        """``(1, frames, 11)`` each -> ``(L,)`` samples, ``L = (frames - 1) * 5``."""
        spec = mx.concatenate([magnitude * mx.cos(phase), magnitude * mx.sin(phase)], axis=-1)[0]
        frames = spec.shape[0]
        pieces = (spec @ self.inverse_basis[0].T).reshape(frames, N_FFT // HOP, HOP)
        parts = N_FFT // HOP
        out = mx.pad(pieces[:, 0], [(0, parts - 1), (0, 0)])
        for j in range(1, parts):  # frame t's piece j lands on output block t + j
            out = out + mx.pad(pieces[:, j], [(j, parts - 1 - j), (0, 0)])
        audio = out.reshape(-1)
        head = min(N_FFT, audio.shape[0])
        ws = self.window_sum[:head]
        tiny = 1.1754943508222875e-38
        scaled = mx.where(ws > tiny, audio[:head] / mx.where(ws > tiny, ws, 1.0), audio[:head])
        audio = mx.concatenate([scaled, audio[head:]]) * float(N_FFT // HOP)
        return audio[N_FFT // 2 : audio.shape[0] - N_FFT // 2]


class Generator(nn.Module):
    """iSTFTNet generator: upsampling convs fed by the harmonic source, then an inverse STFT."""

    def __init__(self, style_dim: int = 128) -> None:
        super().__init__()
        self.m_source = SourceModule()
        self.stft = Stft()
        self.istft = Istft()
        self.ups = [ConvTranspose1d(512, 256, 20, stride=10, padding=5),
                    ConvTranspose1d(256, 128, 12, stride=6, padding=3)]
        self.resblocks = [AdaINResBlock1(ch, k, (1, 3, 5), style_dim) for ch in (256, 128) for k in (3, 7, 11)]
        self.noise_convs = [Conv1d(N_FFT + 2, 256, 12, stride=6, padding=3), Conv1d(N_FFT + 2, 128, 1)]
        self.noise_res = [AdaINResBlock1(256, 7, (1, 3, 5), style_dim), AdaINResBlock1(128, 11, (1, 3, 5), style_dim)]
        self.conv_post = Conv1d(128, N_FFT + 2, 7, padding=3)

    def __call__(self, x: mx.array, s: mx.array, f0: mx.array) -> mx.array:
        magnitude, phase = self.stft(self.m_source(f0))
        har = mx.concatenate([magnitude, phase], axis=-1)
        for i in range(2):
            x = nn.leaky_relu(x, 0.1)
            source = self.noise_res[i](self.noise_convs[i](har), s)
            x = self.ups[i](x)
            if i == 1:
                x = mx.concatenate([x[:, 1:2], x], axis=1)  # ReflectionPad1d((1, 0))
            x = x + source
            blocks = self.resblocks[i * 3 : i * 3 + 3]
            total = blocks[0](x, s)
            for block in blocks[1:]:
                total = total + block(x, s)
            x = total / 3
        x = self.conv_post(nn.leaky_relu(x, 0.01))
        bins = N_FFT // 2 + 1
        return self.istft(mx.exp(x[..., :bins]), mx.sin(x[..., bins:]))


class Decoder(nn.Module):
    """Aligned text features + F0 + energy + style -> vocoder input, then audio."""

    def __init__(self, style_dim: int = 128) -> None:
        super().__init__()
        self.encode = AdainResBlk1d(514, 1024, style_dim)
        self.decode = [AdainResBlk1d(1090, 1024, style_dim) for _ in range(3)]
        self.decode.append(AdainResBlk1d(1090, 512, style_dim, upsample=True))
        self.F0_conv = Conv1d(1, 1, 3, stride=2, padding=1)
        self.N_conv = Conv1d(1, 1, 3, stride=2, padding=1)
        self.asr_res = [Conv1d(512, 64, 1)]
        self.generator = Generator(style_dim)

    def body(self, asr: mx.array, f0_curve: mx.array, n_curve: mx.array, s: mx.array) -> mx.array:
        """Everything before the generator: ``(1, frames, 512)`` features at twice the frame rate."""
        f0 = self.F0_conv(f0_curve[..., None])
        n = self.N_conv(n_curve[..., None])
        x = self.encode(mx.concatenate([asr, f0, n], axis=-1), s)
        asr_res = self.asr_res[0](asr)
        for block in self.decode:  # every block sees the residual inputs: only the last one upsamples
            x = block(mx.concatenate([x, asr_res, f0, n], axis=-1), s)
        return x
