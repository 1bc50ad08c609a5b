"""Speaker playback: a bounded PCM buffer drained by PortAudio's callback; flush for barge-in."""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

MAX_BUFFER_S = 10.0  # the server keeps its lead near 2 s (credit); this is only a safety bound


class SpeakerPlayback:
    """Plays pcm_s16le mono; `write` never blocks, `flush` silences at once."""

    def __init__(self, sd: ModuleType, sample_rate: int = 24000) -> None:
        self._sd = sd
        self.sample_rate = sample_rate
        self._lock = threading.Lock()
        self._buffer = bytearray()
        self._limit = int(MAX_BUFFER_S * sample_rate) * 2
        self._stream: Any = None
        self.played_samples = 0  # non-silent samples handed to the device
        self.dropped_bytes = 0

    def _callback(self, outdata: Any, frames: int, time: Any, status: Any) -> None:  # PortAudio thread
        want = frames * 2
        with self._lock:
            take = bytes(self._buffer[:want])
            del self._buffer[:want]
        outdata[: len(take)] = take
        if len(take) < want:
            outdata[len(take) : want] = b"\x00" * (want - len(take))
        self.played_samples += len(take) // 2

    def start(self) -> None:
        self._stream = self._sd.RawOutputStream(
            samplerate=self.sample_rate, channels=1, dtype="int16", callback=self._callback
        )
        self._stream.start()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None

    def write(self, pcm: bytes) -> None:
        with self._lock:
            self._buffer += pcm
            excess = len(self._buffer) - self._limit
            if excess > 0:
                excess += excess % 2
                del self._buffer[:excess]
                self.dropped_bytes += excess

    def flush(self) -> None:
        with self._lock:
            self._buffer.clear()

    @property
    def buffered_ms(self) -> int:
        with self._lock:
            return len(self._buffer) * 1000 // (2 * self.sample_rate)

    @property
    def playing(self) -> bool:
        return self.buffered_ms > 0
