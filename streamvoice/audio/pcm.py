"""PCM bytes <-> float32 mono samples, with clear errors for malformed input.

Clients send raw little-endian PCM; everything above this module works on float32 mono in
[-1, 1], so conversion and channel mixing live here once.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

PcmEncoding = Literal["pcm_s16le", "pcm_f32le"]

_SAMPLE_BYTES = {"pcm_s16le": 2, "pcm_f32le": 4}


def decode_pcm(data: bytes, encoding: PcmEncoding, channels: int) -> np.ndarray:
    """Decode interleaved PCM to float32 mono (channels averaged).

    Raises ValueError when the encoding or channel count is unknown, the byte length is not a
    whole number of frames, or float samples are not finite.
    """
    width = _SAMPLE_BYTES.get(encoding)
    if width is None:
        raise ValueError(f"unknown PCM encoding {encoding!r}; use 'pcm_s16le' or 'pcm_f32le'")
    if not isinstance(channels, int) or channels < 1 or channels > 32:
        raise ValueError(f"channels must be an integer from 1 to 32, got {channels!r}")
    frame = width * channels
    if len(data) % frame:
        raise ValueError(
            f"{len(data)} bytes is not a whole number of {encoding} frames of {channels} channel(s) "
            f"({frame} bytes each); send complete frames"
        )
    if encoding == "pcm_s16le":
        samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    else:
        samples = np.frombuffer(data, dtype="<f4").astype(np.float32)
        if samples.size and not np.isfinite(samples).all():
            raise ValueError(
                "pcm_f32le audio contains NaN or infinite samples; send finite values in [-1, 1]"
            )
        np.clip(samples, -1.0, 1.0, out=samples)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return samples


def encode_pcm_s16le(samples: np.ndarray) -> bytes:
    """float samples in [-1, 1] (clipped) -> 16-bit little-endian PCM bytes."""
    arr = np.asarray(samples, dtype=np.float32)
    if arr.ndim != 1:
        raise ValueError(f"expected mono samples (1-D), got shape {arr.shape}")
    scaled = np.clip(np.nan_to_num(arr), -1.0, 1.0) * 32767.0
    return np.rint(scaled).astype("<i2").tobytes()
