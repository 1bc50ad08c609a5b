"""PCM codec, streaming resampler and file reading (pure, no models)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from streamvoice.audio import Resampler, decode_pcm, encode_pcm_s16le, resample
from streamvoice.audio.wavio import AudioFileError, read_audio


def _tone(freq: float, rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_s16_roundtrip_and_stereo_mix() -> None:
    x = _tone(440, 16000)
    assert np.abs(decode_pcm(encode_pcm_s16le(x), "pcm_s16le", 1) - x).max() < 1e-4
    stereo = np.stack([x, -x], axis=1).reshape(-1).astype("<f4").tobytes()
    assert np.abs(decode_pcm(stereo, "pcm_f32le", 2)).max() < 1e-6


@pytest.mark.parametrize(
    ("data", "encoding", "channels", "needle"),
    [
        (b"\x00\x00\x00", "pcm_s16le", 1, "whole number"),
        (b"\x00" * 4, "pcm_s16le", 0, "channels"),
        (b"\x00" * 4, "mp3", 1, "unknown PCM encoding"),
        (np.array([np.nan], dtype="<f4").tobytes(), "pcm_f32le", 1, "NaN"),
    ],
)
def test_bad_pcm_raises_clear_error(data: bytes, encoding: str, channels: int, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        decode_pcm(data, encoding, channels)  # type: ignore[arg-type]


@pytest.mark.parametrize("in_rate", [8000, 44100, 48000])
def test_streaming_resample_matches_whole_and_keeps_tone(in_rate: int) -> None:
    x = _tone(1000, in_rate, 2.0)
    r = Resampler(in_rate, 16000)
    chunks = [r.process(c) for c in np.array_split(x, 37)] + [r.flush()]
    y = np.concatenate(chunks)
    assert abs(len(y) - 32000) <= 2
    whole = resample(x, in_rate, 16000)
    assert np.allclose(y, whole, atol=1e-4)
    spectrum = np.abs(np.fft.rfft(y[4000:20000]))
    assert abs(np.argmax(spectrum) * 16000 / 16000 - 1000) < 2  # peak stays at 1 kHz


def test_resampler_removes_content_above_nyquist() -> None:
    x = _tone(12000, 48000, 1.0)  # above 8 kHz: must not alias down into the band
    y = resample(x, 48000, 16000)
    assert np.sqrt(np.mean(y[2000:-2000] ** 2)) < 0.01


def test_read_wav_any_rate_and_channels(tmp_path: Path) -> None:
    x = _tone(300, 44100, 0.5)
    path = tmp_path / "t.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(np.stack([x, x], axis=1).reshape(-1).__mul__(32767).astype("<i2").tobytes())
    samples, rate = read_audio(path)
    assert rate == 44100 and samples.shape == x.shape
    assert np.abs(samples - x).max() < 1e-3


def test_read_audio_errors_clearly(tmp_path: Path) -> None:
    with pytest.raises(AudioFileError, match="not found"):
        read_audio(tmp_path / "missing.wav")
    junk = tmp_path / "junk.ogg"
    junk.write_bytes(b"not audio at all")
    with pytest.raises(AudioFileError, match="could not decode"):
        read_audio(junk)
