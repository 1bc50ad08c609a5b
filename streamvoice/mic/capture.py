"""Microphone capture: PortAudio callback → 20 ms pcm_s16le frames in a bounded asyncio queue."""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

from streamvoice.mic.queues import DropOldestQueue

FRAME_MS = 20
QUEUE_FRAMES = 250  # 5 s of audio


class MicCapture:
    """`async with MicCapture(sd, rate) as mic: frame = await mic.read()` (bytes, 20 ms)."""

    def __init__(self, sd: ModuleType, sample_rate: int = 16000) -> None:
        self._sd = sd
        self.sample_rate = sample_rate
        self._queue: DropOldestQueue[bytes] | None = None
        self._stream: Any = None
        self.overflows = 0

    def _callback(self, indata: Any, frames: int, time: Any, status: Any) -> None:  # PortAudio thread
        if status and getattr(status, "input_overflow", False):
            self.overflows += 1
        queue = self._queue
        if queue is not None:
            queue.put_threadsafe(bytes(indata))

    async def __aenter__(self) -> MicCapture:
        self._queue = DropOldestQueue(asyncio.get_running_loop(), QUEUE_FRAMES)
        self._stream = self._sd.RawInputStream(
            samplerate=self.sample_rate,
            channels=1,
            dtype="int16",
            blocksize=self.sample_rate * FRAME_MS // 1000,
            callback=self._callback,
        )
        self._stream.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None

    @property
    def dropped(self) -> int:
        return self._queue.dropped if self._queue else 0

    async def read(self) -> bytes:
        if self._queue is None:
            raise RuntimeError("use MicCapture as an async context manager")
        return await self._queue.get()
