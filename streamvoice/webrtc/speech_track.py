"""The outbound audio track: synthesized speech at real time, silence when idle, dropped on cancel.

aiortc pulls :meth:`SpeechTrack.recv` once per frame and encodes what it returns (Opus). Each call
waits until the frame's time on the track's clock (20 ms frames at 48 kHz), then takes 960 samples
from a queue of synthesized PCM, padding with silence when the queue runs dry. The queue is bounded
in milliseconds of audio: :meth:`put` waits for room, so synthesis waits for playback and memory
stays bounded. :meth:`purge` drops a cancelled turn's audio at once: the next frame (at most 20 ms
later) is silent. Markers in the queue fire callbacks when playback reaches them: a chunk's caption
as its first sample plays (with its track time), a turn's end after its last sample.
"""

from __future__ import annotations

import asyncio
import fractions
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

RATE = 48_000
FRAME = 960  # 20 ms
FRAME_S = FRAME / RATE
TIME_BASE = fractions.Fraction(1, RATE)
REANCHOR_S = 0.1  # fell further behind the clock than this (a stalled loop): restart the clock, don't burst


@dataclass(eq=False, slots=True)
class Chunk:
    """Queued PCM of one turn; ``offset_ms`` is its first sample's turn time."""

    turn: int
    pcm: np.ndarray  # int16 mono at RATE
    offset_ms: float
    on_start: Callable[[int], None] | None = None  # called with the track time (ms) of the first sample
    pos: int = 0


@dataclass(eq=False, slots=True)
class Marker:
    """``fire`` when playback reaches it (a turn's ``tts_done``); handed back by :meth:`purge` instead."""

    turn: int
    fire: Callable[[], None]
    cut: Callable[[], None]


class SpeechTrack(MediaStreamTrack):
    """``kind = "audio"``; see the module docstring."""

    kind = "audio"

    def __init__(self, max_queued_ms: float, on_played: Callable[[int, float], None] | None = None) -> None:
        super().__init__()
        self.max_queued_ms = max_queued_ms
        self._on_played = on_played  # (turn, turn-time ms played so far) after each frame with its audio
        self._queue: deque[Chunk | Marker] = deque()
        self._queued = 0  # samples in the queue
        self._room = asyncio.Event()
        self._room.set()
        self._start: float | None = None
        self._pts = 0
        self.frames = 0  # frames returned
        self.audio_frames = 0  # frames holding synthesized audio

    @property
    def position(self) -> int:
        """Track time (samples at 48 kHz, the frames' pts) of the last frame handed to aiortc."""
        return self._pts

    @property
    def queued_ms(self) -> float:
        return self._queued * 1000.0 / RATE

    # -- producer side -------------------------------------------------------------------------
    async def put(self, chunk: Chunk) -> None:
        """Queue ``chunk``; waits while more than ``max_queued_ms`` wait (the first always goes)."""
        while self._queued and self.queued_ms + len(chunk.pcm) * 1000.0 / RATE > self.max_queued_ms:
            if self.readyState != "live":
                return
            self._room.clear()
            await self._room.wait()
        self._queue.append(chunk)
        self._queued += len(chunk.pcm)

    def mark(self, marker: Marker) -> None:
        """Fire ``marker`` once what is queued now has played (at once when nothing is queued)."""
        if not self._queue:
            marker.fire()
        else:
            self._queue.append(marker)

    def purge(self, turn: int | None) -> tuple[int, list[Marker]]:
        """Drop everything queued of ``turn`` (None: of every turn), the chunk playing too.

        Returns how many chunks were dropped and the markers taken out unfired (the caller says why).
        """
        hit = [item for item in self._queue if turn is None or item.turn == turn]
        if not hit:
            return 0, []
        self._queue = deque(item for item in self._queue if not (turn is None or item.turn == turn))
        self._queued = sum(len(i.pcm) - i.pos for i in self._queue if isinstance(i, Chunk))
        self._room.set()
        return sum(isinstance(i, Chunk) for i in hit), [i for i in hit if isinstance(i, Marker)]

    # -- aiortc side ---------------------------------------------------------------------------
    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        else:
            self._pts += FRAME
            delay = self._start + self._pts / RATE - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -REANCHOR_S:
                self._start -= delay
        pcm = self._take()
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = TIME_BASE
        self.frames += 1
        return frame

    def stop(self) -> None:
        super().stop()
        self._queue.clear()
        self._queued = 0
        self._room.set()

    def _take(self) -> np.ndarray:
        """The next frame's samples (taken after the wait, so a purge during it is honoured)."""
        out = np.zeros(FRAME, np.int16)
        filled = 0
        played: tuple[int, float] | None = None
        while self._queue and filled < FRAME:
            item = self._queue[0]
            if isinstance(item, Marker):
                self._queue.popleft()
                item.fire()
                continue
            if item.pos == 0 and item.on_start is not None:
                item.on_start(int((self._pts + filled) * 1000 // RATE))
            n = min(FRAME - filled, len(item.pcm) - item.pos)
            out[filled:filled + n] = item.pcm[item.pos:item.pos + n]
            item.pos += n
            filled += n
            self._queued -= n
            played = (item.turn, item.offset_ms + item.pos * 1000.0 / RATE)
            if item.pos >= len(item.pcm):
                self._queue.popleft()
        while self._queue and isinstance(self._queue[0], Marker):  # a turn's end right after its last sample
            marker = self._queue.popleft()
            assert isinstance(marker, Marker)
            marker.fire()
        if filled:
            self.audio_frames += 1
            self._room.set()
        if played is not None and self._on_played is not None:
            self._on_played(*played)
        return out
