"""The two audio tracks of a call, from the client's side (PROTOCOL.md §13.2, §13.4).

:class:`MicTrack` is the microphone aiortc sends: samples are queued at any rate (16 kHz is what a
WebSocket client sends) and resampled to the 48 kHz of Opus, and aiortc pulls one 20 ms frame at a
time, paced at real time, with silence when the queue is dry: a live microphone never stops
sending, and the server's VAD hears the gap as silence rather than a stalled stream.

:class:`RemoteAudio` reads the server's speech track: every decoded frame becomes a
:class:`TrackFrame` (mono PCM, its track time, when it arrived and how loud it was), handed to
listeners as it arrives and to ``async for`` readers through a bounded buffer, so a reader that
stops reading costs memory for at most ``max_buffered`` frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streamvoice.audio.resample import Resampler

RATE = 48_000  # both tracks' clock (Opus)
FRAME = 960  # 20 ms
TIME_BASE = fractions.Fraction(1, RATE)
REANCHOR_S = 0.1  # the loop stalled longer than this: restart the clock rather than send a burst


def to_float(audio: bytes | np.ndarray) -> np.ndarray:
    """pcm_s16le bytes, int16 samples or float samples in [-1, 1] -> float32 mono."""
    if isinstance(audio, bytes | bytearray | memoryview):
        return np.frombuffer(audio, "<i2").astype(np.float32) / 32768.0
    x = np.asarray(audio)
    if x.dtype == np.int16:
        return x.astype(np.float32) / 32768.0
    return np.asarray(x, np.float32).reshape(-1)


class MicTrack(MediaStreamTrack):
    """A microphone fed by :meth:`feed`; see the module docstring.

    ``on_frame(track_samples, wall)`` is called as each frame leaves, with the track's position
    after it (samples at 48 kHz) and ``time.monotonic()``: what a benchmark needs to map the
    server's audio times back to the moment a sample was "captured".
    """

    kind = "audio"

    def __init__(self, on_frame: Callable[[int, float], None] | None = None, max_queued_s: float | None = None) -> None:
        """``max_queued_s``: for a live microphone, whose clock drifts from the track's: audio queued
        beyond it is dropped, oldest first, so the delay stays bounded (None: keep all, for files)."""
        super().__init__()
        self.on_frame = on_frame
        self.max_queued_s = max_queued_s
        self.dropped_samples = 0
        self._pcm = bytearray()  # int16 at RATE, waiting to be sent
        self._resamplers: dict[int, Resampler] = {}
        self._drained = asyncio.Event()
        self._drained.set()
        self._start: float | None = None
        self._pts = 0
        self.fed_samples = 0  # at RATE

    @property
    def queued_s(self) -> float:
        """Audio fed but not sent yet."""
        return len(self._pcm) / 2 / RATE

    @property
    def done(self) -> bool:
        """Everything fed has been sent."""
        return not self._pcm

    @property
    def position(self) -> int:
        """Track time (samples at 48 kHz) of the end of the last frame sent."""
        return self._pts

    def feed(self, audio: bytes | np.ndarray, sample_rate: int = 16_000) -> None:
        """Queue mono audio (pcm_s16le bytes, int16 or float samples) to be sent at real time.

        Resampling holds back a few milliseconds until more comes; :meth:`flush` sends them.
        """
        x = to_float(audio)
        if sample_rate != RATE:
            resampler = self._resamplers.setdefault(sample_rate, Resampler(sample_rate, RATE))
            x = resampler.process(x)
        self._append(x)

    def _append(self, x: np.ndarray) -> None:
        if x.size:
            self._pcm += (np.clip(x, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
            self.fed_samples += x.size
            self._drained.clear()
        if self.max_queued_s is not None and self.queued_s > self.max_queued_s:
            excess = len(self._pcm) - 2 * int(self.max_queued_s * RATE)
            del self._pcm[:excess]
            self.dropped_samples += excess // 2

    def flush(self) -> None:
        """Push out what the resamplers hold back (a few ms): the end of an utterance or a file."""
        resamplers, self._resamplers = self._resamplers, {}
        for resampler in resamplers.values():
            tail = resampler.process(np.zeros(0, np.float32), last=True)
            self._append(tail)

    async def drained(self) -> None:
        """Wait until everything fed has been sent."""
        await self._drained.wait()

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        else:
            delay = self._start + self._pts / RATE - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -REANCHOR_S:
                self._start -= delay
        data = bytes(self._pcm[:FRAME * 2])
        del self._pcm[:FRAME * 2]
        if not self._pcm:
            self._drained.set()
        out = np.zeros(FRAME, np.int16)
        out[:len(data) // 2] = np.frombuffer(data, "<i2")
        frame = av.AudioFrame.from_ndarray(out.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = TIME_BASE
        self._pts += FRAME
        if self.on_frame is not None:
            self.on_frame(self._pts, time.monotonic())
        return frame

    def stop(self) -> None:
        super().stop()
        self._pcm.clear()
        self._drained.set()


@dataclass(slots=True)
class TrackFrame:
    """One decoded 20 ms frame of the server's speech track."""

    at: float  # time.monotonic() when it was decoded
    pts: int  # track time in samples at 48 kHz (RTP timestamp from the first packet)
    rms: float  # level in [0, 1]
    pcm: np.ndarray = field(repr=False)  # float32 mono at 48 kHz

    @property
    def track_ms(self) -> float:
        """Track time of its first sample (PROTOCOL §13.4): what ``tts_text.track_ms`` is measured in."""
        return self.pts * 1000.0 / RATE

    def pcm_s16le(self) -> bytes:
        return (np.clip(self.pcm, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


class RemoteAudio:
    """The server's speech track as :class:`TrackFrame` s; see the module docstring."""

    def __init__(self, max_buffered: int = 500) -> None:
        self.max_buffered = max_buffered
        self.listeners: list[Callable[[TrackFrame], None]] = []
        self._readers: list[tuple[deque[TrackFrame], asyncio.Event]] = []
        self._ended = False
        self._task: asyncio.Task[None] | None = None
        self.frames_received = 0
        self.frames_dropped = 0  # by readers that fell more than max_buffered frames behind

    def attach(self, track: MediaStreamTrack) -> None:
        """Start reading ``track`` (the peer connection's ``track`` event)."""
        if self._task is None:
            self._task = asyncio.ensure_future(self._read(track))

    async def _read(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:
                    return
                if not isinstance(frame, av.AudioFrame):
                    continue
                channels = len(frame.layout.channels)
                raw = frame.to_ndarray().reshape(-1, channels)[:, 0]  # packed s16: interleaved
                pcm = raw.astype(np.float32) / 32768.0
                heard = TrackFrame(time.monotonic(), int(frame.pts or 0), float(np.sqrt(np.mean(pcm**2))), pcm)
                self._deliver(heard)
        finally:
            self._ended = True
            for _, wake in self._readers:
                wake.set()

    def _deliver(self, frame: TrackFrame) -> None:
        self.frames_received += 1
        for listener in self.listeners:
            listener(frame)
        for queue, wake in self._readers:
            if len(queue) >= self.max_buffered:
                queue.popleft()
                self.frames_dropped += 1
            queue.append(frame)
            wake.set()

    async def frames(self) -> AsyncIterator[TrackFrame]:
        """Every frame from now on, in order, until the track ends."""
        queue: deque[TrackFrame] = deque()
        wake = asyncio.Event()
        reader = (queue, wake)
        self._readers.append(reader)
        try:
            while True:
                while queue:
                    yield queue.popleft()
                if self._ended:
                    return
                wake.clear()
                await wake.wait()
        finally:
            self._readers.remove(reader)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
