"""Read an audio file as float32 mono: WAV through the stdlib, anything else through PyAV."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from streamvoice.audio.pcm import decode_pcm


class AudioFileError(ValueError):
    """The file is missing, unreadable or in a format we cannot decode; the message says which."""


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Return ``(samples float32 mono, sample_rate)`` for a WAV or any format PyAV decodes."""
    p = Path(path)
    if not p.is_file():
        raise AudioFileError(f"audio file not found: {p}")
    if p.suffix.lower() in (".wav", ".wave"):
        try:
            return _read_wav(p)
        except (wave.Error, EOFError, ValueError):
            pass  # e.g. WAV with float or extensible headers: let PyAV try
    return _read_av(p)


def _read_wav(p: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(p), "rb") as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        data = w.readframes(w.getnframes())
    if width == 2:
        return decode_pcm(data, "pcm_s16le", channels), rate
    if width == 1:  # unsigned 8-bit
        s = (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 3:
        b = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3)
        ints = (b[:, 0].astype(np.int32) | (b[:, 1].astype(np.int32) << 8) | (b[:, 2].astype(np.int32) << 16))
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        s = ints.astype(np.float32) / float(1 << 23)
    elif width == 4:
        s = np.frombuffer(data, dtype="<i4").astype(np.float32) / float(1 << 31)
    else:
        raise ValueError(f"unsupported WAV sample width {width}")
    if channels > 1:
        s = s.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return s.astype(np.float32), rate


def _read_av(p: Path) -> tuple[np.ndarray, int]:
    try:
        import av
    except ImportError as exc:  # pragma: no cover
        raise AudioFileError(f"{p.name}: non-WAV audio needs PyAV (pip install av)") from exc
    try:
        with av.open(str(p)) as container:
            streams = container.streams.audio
            if not streams:
                raise AudioFileError(f"{p}: no audio stream found")
            stream = streams[0]
            rate = int(stream.codec_context.sample_rate or stream.rate or 0)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            parts: list[np.ndarray] = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                parts.append(out.to_ndarray().reshape(-1))
    except AudioFileError:
        raise
    except Exception as exc:  # PyAV raises many error types; report them uniformly
        raise AudioFileError(f"could not decode {p}: {exc}; use WAV or a format ffmpeg reads") from exc
    if rate <= 0:
        raise AudioFileError(f"{p}: unknown sample rate")
    samples = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, dtype=np.float32)
    return samples, rate
