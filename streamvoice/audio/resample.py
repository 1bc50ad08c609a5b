"""Streaming, anti-aliased sample-rate conversion.

soxr's windowed-sinc filter keeps state between chunks, so audio arriving in 20 ms frames
resamples exactly as the whole signal would, without clicks at chunk joins. Without soxr a
linear interpolator is used as a documented fallback (audible aliasing; fine for tests only).
"""

from __future__ import annotations

import numpy as np

try:  # soxr is a compiled dependency; keep the package importable without it
    import soxr as _soxr
except ImportError:  # pragma: no cover - exercised only where soxr is absent
    _soxr = None


class Resampler:
    """Converts float32 mono audio from ``in_rate`` to ``out_rate`` chunk by chunk."""

    def __init__(self, in_rate: int, out_rate: int, quality: str = "HQ") -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {in_rate} -> {out_rate}")
        if in_rate > 384_000 or out_rate > 384_000:
            raise ValueError(f"sample rate above 384 kHz is not supported ({in_rate} -> {out_rate})")
        self.in_rate = int(in_rate)
        self.out_rate = int(out_rate)
        self._passthrough = self.in_rate == self.out_rate
        self._stream = None
        self._fallback_pos = 0.0  # fractional read position into pending input (fallback only)
        self._fallback_tail = np.zeros(0, dtype=np.float32)
        if not self._passthrough and _soxr is not None:
            self._stream = _soxr.ResampleStream(
                self.in_rate, self.out_rate, 1, dtype="float32", quality=quality
            )

    def process(self, samples: np.ndarray, last: bool = False) -> np.ndarray:
        """Resample one chunk; pass ``last=True`` on the final chunk to flush the filter."""
        x = np.ascontiguousarray(samples, dtype=np.float32)
        if x.ndim != 1:
            raise ValueError(f"expected mono samples (1-D), got shape {x.shape}")
        if self._passthrough:
            return x.copy()
        if self._stream is not None:
            return np.asarray(self._stream.resample_chunk(x, last=last), dtype=np.float32)
        return self._linear(x)

    def flush(self) -> np.ndarray:
        """Samples still held in the filter at end of stream."""
        return self.process(np.zeros(0, dtype=np.float32), last=True)

    def _linear(self, x: np.ndarray) -> np.ndarray:
        buf = np.concatenate([self._fallback_tail, x])
        step = self.in_rate / self.out_rate
        positions = np.arange(self._fallback_pos, len(buf) - 1, step)
        out = np.interp(positions, np.arange(len(buf)), buf).astype(np.float32)
        next_pos = positions[-1] + step if len(positions) else self._fallback_pos
        keep = int(next_pos)
        self._fallback_tail = buf[keep:]
        self._fallback_pos = next_pos - keep
        return out


def resample(samples: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """Whole-signal convenience wrapper around :class:`Resampler`."""
    r = Resampler(in_rate, out_rate)
    head = r.process(samples)
    return np.concatenate([head, r.flush()]) if not r._passthrough else head
