"""Chunk audio -> client frames: edge fades, fixed-size frames, PCM at the client's rate and format.

Why fades: Kokoro chunks start and end near, not exactly at, zero; butting two chunks together
clicks. A few milliseconds of raised-cosine ramp at each edge removes that without audible loss.
Each chunk is resampled as a whole (its edges are faded to silence, so no filter state needs to
cross chunk joins). A chunk may arrive in parts (a turn's first chunk, vocoded in two windows):
:class:`ChunkFramer` fades only the chunk's outer edges, carries the resampler's state and the
unfilled frame across the parts, so the parts come out as the whole chunk would. Pure: numpy and
streamvoice.audio only.
"""

from __future__ import annotations

import numpy as np

from streamvoice.audio import Resampler, encode_pcm_s16le, resample

DEFAULT_FADE_MS = 5.0


def fade_edges(audio: np.ndarray, sample_rate: int, fade_ms: float = DEFAULT_FADE_MS) -> np.ndarray:
    """A copy of ``audio`` with raised-cosine fade-in and fade-out of ``fade_ms`` each."""
    out = np.array(audio, dtype=np.float32, copy=True).reshape(-1)
    n = min(int(sample_rate * fade_ms / 1000.0), out.size // 2)
    if n > 0:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n, dtype=np.float32))).astype(np.float32)
        out[:n] *= ramp
        out[-n:] *= ramp[::-1]
    return out


def frame_audio(audio: np.ndarray, sample_rate: int, frame_ms: int) -> list[np.ndarray]:
    """Split into frames of ``frame_ms`` (the last one may be shorter); never drops samples."""
    if frame_ms <= 0:
        raise ValueError(f"frame_ms must be positive, got {frame_ms}")
    size = max(1, round(sample_rate * frame_ms / 1000.0))
    flat = np.asarray(audio, dtype=np.float32).reshape(-1)
    return [flat[i : i + size] for i in range(0, flat.size, size)]


def to_client_rate(audio: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """Resample one faded chunk to the rate the client asked for (identity when equal)."""
    if in_rate == out_rate:
        return np.asarray(audio, dtype=np.float32)
    return resample(np.asarray(audio, dtype=np.float32), in_rate, out_rate)


def encode_frame(samples: np.ndarray, encoding: str = "pcm_s16le") -> bytes:
    """One frame in the client's sample format: ``pcm_s16le`` (default) or ``pcm_f32le``."""
    if encoding == "pcm_f32le":
        return np.clip(samples, -1.0, 1.0).astype("<f4").tobytes()
    if encoding != "pcm_s16le":
        raise ValueError(f"unknown audio encoding {encoding!r}; use pcm_s16le or pcm_f32le")
    return encode_pcm_s16le(samples)


def _fade(samples: np.ndarray, n: int, rising: bool) -> None:
    """Raised-cosine ramp over the first (``rising``) or last ``n`` samples, in place."""
    if n <= 0:
        return
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n, dtype=np.float32))).astype(np.float32)
    if rising:
        samples[:n] *= ramp
    else:
        samples[-n:] *= ramp[::-1]


class ChunkFramer:
    """One chunk's audio, given whole or in consecutive parts, to client frames.

    Why a class: the parts of a chunk must join with no fade, no resampler edge and no short
    frame between them; only the chunk's first and last samples are faded, and only its last
    frame may be short. One part with ``last=True`` gives what :func:`chunk_to_pcm_frames` gives.
    """

    def __init__(self, in_rate: int, out_rate: int, frame_ms: int, fade_ms: float = DEFAULT_FADE_MS,
                 encoding: str = "pcm_s16le") -> None:
        if frame_ms <= 0:
            raise ValueError(f"frame_ms must be positive, got {frame_ms}")
        self.in_rate, self.out_rate, self.encoding = in_rate, out_rate, encoding
        self._fade_ms = fade_ms
        self._fade = int(in_rate * fade_ms / 1000.0)
        self._size = max(1, round(out_rate * frame_ms / 1000.0))
        self._resampler = Resampler(in_rate, out_rate)
        self._pending = np.zeros(0, np.float32)  # client-rate samples short of a whole frame
        self._held = np.zeros(0, np.float32)  # input samples the chunk's fade-out may still need
        self._started = False
        self.closed = False

    def push(self, audio: np.ndarray, last: bool) -> list[bytes]:
        """Frames completed by this part (all that is left when ``last``)."""
        if self.closed:
            raise ValueError("the chunk's last part was already framed")
        part = np.asarray(audio, dtype=np.float32).reshape(-1)
        buf = np.concatenate([self._held, part]) if self._held.size else part.copy()
        if last:
            self.closed = True
            if not self._started:  # the whole chunk at once
                ready = fade_edges(buf, self.in_rate, self._fade_ms)
            else:
                ready = buf
                _fade(ready, min(self._fade, ready.size), rising=False)
            self._held = buf[:0]
        elif not self._started and buf.size < 3 * self._fade:
            self._held = buf  # too little yet to know the fades are the whole chunk's
            return []
        else:
            keep = min(self._fade, buf.size)  # the fade-out may still fall here
            ready, self._held = buf[: buf.size - keep].copy(), buf[buf.size - keep :].copy()
        if not self._started:
            self._started = True
            if not last:
                _fade(ready, self._fade, rising=True)  # the chunk is at least 2 fades long
        out = self._resampler.process(ready)
        if last and self.in_rate != self.out_rate:
            out = np.concatenate([out, self._resampler.flush()])
        frames = np.concatenate([self._pending, out]) if self._pending.size else out
        whole = frames.size if last else frames.size // self._size * self._size
        self._pending = frames[whole:]
        size = self._size
        return [encode_frame(frames[i : min(i + size, whole)], self.encoding) for i in range(0, whole, size)]


def chunk_to_pcm_frames(
    audio: np.ndarray, in_rate: int, out_rate: int, frame_ms: int, fade_ms: float = DEFAULT_FADE_MS,
    encoding: str = "pcm_s16le",
) -> list[bytes]:
    """Fade, resample and frame one synthesized chunk, encoded as the client asked."""
    ready = to_client_rate(fade_edges(audio, in_rate, fade_ms), in_rate, out_rate)
    return [encode_frame(f, encoding) for f in frame_audio(ready, out_rate, frame_ms)]
