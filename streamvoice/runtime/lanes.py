"""Three bounded outbound lanes feeding one writer, control first, then transcripts, then audio.

Policies (all bounds counted in frames):
- CONTROL (ready, error, flow, pong, bye): bound ``control_max``; overflow means the client has
  not read for a long time -> :class:`LaneOverflow` (the session closes it as a slow consumer).
- TRANSCRIPT (speech, partial, final): bound ``transcript_max``; when full, the oldest queued
  ``partial`` is dropped first (a later partial or the final supersedes it); if there is none,
  :class:`LaneOverflow`.
- AUDIO (tts_audio, tts_done): bound ``audio_max``; producers wait in :meth:`put_audio` for room
  (so synthesis stops when the client stops reading), and :meth:`purge_turn` drops a cancelled
  turn's queued frames at once.
After :meth:`close` nothing more is accepted and the writer sees the end. :attr:`bytes` counts
what waits, so the transport can bound a session's unsent output in bytes (``max_queued_bytes``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

from streamvoice.protocol.messages import Lane


class LaneOverflow(Exception):
    """A lane is full: the client is not reading."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    lane: Lane
    data: bytes
    kind: str = ""  # message type, for metrics and the partial-drop policy
    turn: int | None = None


class OutboundLanes:
    def __init__(self, control_max: int = 256, transcript_max: int = 256, audio_max: int = 32) -> None:
        self._bounds = {Lane.CONTROL: control_max, Lane.TRANSCRIPT: transcript_max, Lane.AUDIO: audio_max}
        self._queues: dict[Lane, deque[Outgoing]] = {lane: deque() for lane in Lane}
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._empty = asyncio.Event()
        self._closed = False
        self.dropped_partials = 0
        self.bytes = 0  # payload bytes queued in all lanes

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues.values())

    @property
    def closed(self) -> bool:
        return self._closed

    def put(self, item: Outgoing) -> None:
        """Queue a control or transcript frame now (audio too, ignoring its bound: tts_done)."""
        if self._closed:
            return
        queue = self._queues[item.lane]
        if item.lane is not Lane.AUDIO and len(queue) >= self._bounds[item.lane]:
            if item.lane is Lane.TRANSCRIPT and self._drop_oldest_partial(queue):
                self.dropped_partials += 1
            else:
                raise LaneOverflow(f"{item.lane.name.lower()} lane full ({self._bounds[item.lane]} frames unsent)")
        queue.append(item)
        self.bytes += len(item.data)
        self._ready.set()

    async def put_audio(self, item: Outgoing) -> None:
        """Queue an audio frame, waiting while the audio lane is full."""
        queue = self._queues[Lane.AUDIO]
        while not self._closed and len(queue) >= self._bounds[Lane.AUDIO]:
            self._room.clear()
            await self._room.wait()
        if self._closed:
            return
        queue.append(item)
        self.bytes += len(item.data)
        self._ready.set()

    def purge_turn(self, turn: int) -> int:
        """Drop queued audio frames of ``turn``; returns how many."""
        queue = self._queues[Lane.AUDIO]
        keep = [i for i in queue if not (i.turn == turn and i.kind == "tts_audio")]
        removed = len(queue) - len(keep)
        self.bytes -= sum(len(i.data) for i in queue) - sum(len(i.data) for i in keep)
        queue.clear()
        queue.extend(keep)
        if removed:
            self._room.set()
        return removed

    async def wait_empty(self) -> None:
        """Return once every queued frame has been taken by the writer."""
        while len(self):
            self._empty.clear()
            await self._empty.wait()

    async def get(self) -> Outgoing | None:
        """Next frame by lane priority; None once closed and drained."""
        while True:
            for lane in Lane:
                queue = self._queues[lane]
                if queue:
                    item = queue.popleft()
                    self.bytes -= len(item.data)
                    if lane is Lane.AUDIO:
                        self._room.set()
                    return item
            self._empty.set()
            if self._closed:
                return None
            self._ready.clear()
            await self._ready.wait()

    def close(self, *, drop_pending: bool = False) -> None:
        """No more frames; the writer drains what is queued (all of it, or control only)."""
        self._closed = True
        if drop_pending:
            self._drop(Lane.TRANSCRIPT)
            self._drop(Lane.AUDIO)
        self._ready.set()
        self._room.set()

    def clear(self) -> None:
        """Drop every queued frame, control too (the session is dropping its client)."""
        for lane in Lane:
            self._drop(lane)
        self._empty.set()

    def _drop(self, lane: Lane) -> None:
        queue = self._queues[lane]
        self.bytes -= sum(len(i.data) for i in queue)
        queue.clear()

    def _drop_oldest_partial(self, queue: deque[Outgoing]) -> bool:
        for i, item in enumerate(queue):
            if item.kind == "partial":
                del queue[i]
                self.bytes -= len(item.data)
                return True
        return False
