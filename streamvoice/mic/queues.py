"""Hand-off from PortAudio's thread to asyncio: a bounded queue that drops the oldest item."""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

T = TypeVar("T")


class DropOldestQueue(Generic[T]):
    """Bounded asyncio queue; `put_threadsafe` may be called from any thread and never blocks.

    When full, the oldest item is dropped and counted in `dropped`: a slow consumer loses the
    stalest audio rather than growing memory or stalling the audio thread.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[T] = asyncio.Queue(maxsize)
        self.dropped = 0

    def put_threadsafe(self, item: T) -> None:
        self._loop.call_soon_threadsafe(self._put, item)

    def _put(self, item: T) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(item)

    async def get(self) -> T:
        return await self._queue.get()
