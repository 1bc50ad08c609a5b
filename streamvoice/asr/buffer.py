"""A growable 16 kHz audio buffer addressed by stream time, trimmed from the front (pure)."""

from __future__ import annotations

import numpy as np

from streamvoice.asr.backend import ASR_SAMPLE_RATE as SAMPLE_RATE


class AudioBuffer:
    """Holds stream audio from ``start_s`` to ``end_s``; amortised O(1) append."""

    def __init__(self) -> None:
        self._data = np.zeros(SAMPLE_RATE * 4, dtype=np.float32)
        self._len = 0
        self._start = 0  # stream sample index of _data[0]

    @property
    def start_s(self) -> float:
        return self._start / SAMPLE_RATE

    @property
    def end_s(self) -> float:
        return (self._start + self._len) / SAMPLE_RATE

    def append(self, samples: np.ndarray) -> None:
        n = len(samples)
        if self._len + n > len(self._data):
            grown = np.zeros(max(2 * len(self._data), self._len + n), dtype=np.float32)
            grown[: self._len] = self._data[: self._len]
            self._data = grown
        self._data[self._len : self._len + n] = samples
        self._len += n

    def slice(self, start_s: float, end_s: float) -> np.ndarray:
        """A copy of the audio between two stream times (clamped to what is held)."""
        a = max(0, round(start_s * SAMPLE_RATE) - self._start)
        b = min(self._len, round(end_s * SAMPLE_RATE) - self._start)
        return self._data[a:b].copy() if b > a else np.zeros(0, dtype=np.float32)

    def trim_before(self, time_s: float) -> None:
        """Forget audio before ``time_s``."""
        cut = min(self._len, max(0, round(time_s * SAMPLE_RATE) - self._start))
        if cut == 0:
            return
        self._data[: self._len - cut] = self._data[cut : self._len]
        self._len -= cut
        self._start += cut
