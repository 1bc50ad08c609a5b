"""Chunk audio -> client frames: edge fades, fixed-size frames, PCM at the client's rate and format.

Why fades: Kokoro chunks start and end near, not exactly at, zero; butting two chunks together
clicks. A few milliseconds of raised-cosine ramp at each edge removes that without audible loss.
Each chunk is resampled as a whole (its edges are faded to silence, so no filter state needs to
cross chunk joins). Pure: numpy and streamvoice.audio only.
"""

from __future__ import annotations

import numpy as np

from streamvoice.audio import encode_pcm_s16le, resample

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


def chunk_to_pcm_frames(
    audio: np.ndarray, in_rate: int, out_rate: int, frame_ms: int, fade_ms: float = DEFAULT_FADE_MS,
    encoding: str = "pcm_s16le",
) -> list[bytes]:
    """Fade, resample and frame one synthesized chunk, encoded as the client asked."""
    ready = to_client_rate(fade_edges(audio, in_rate, fade_ms), in_rate, out_rate)
    return [encode_frame(f, encoding) for f in frame_audio(ready, out_rate, frame_ms)]
