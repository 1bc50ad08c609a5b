"""Helpers for the browser tests: Chromium's flags, the fake microphone clip, artifact paths."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
WEB_ROOT = REPO / "clients" / "web"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path(os.environ.get("STREAMVOICE_CHROMIUM", "/usr/bin/chromium"))

# Flags that keep Chromium quiet on a closed network, plus fake media devices.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]



def chromium_args(fake_audio: Path | None) -> list[str]:
    """Flags for a launch; Playwright's launch() gives every browser a fresh temporary profile."""
    args = list(CHROMIUM_ARGS)
    if fake_audio is not None:
        args.append(f"--use-file-for-fake-audio-capture={fake_audio}%noloop")
    return args


def write_capture_wav(source: Path, target: Path, lead_s: float = 0.5, tail_s: float = 2.5, rate: int = 48000) -> Path:
    """The clip as Chromium's fake microphone wants it: 48 kHz s16 mono, with silence around it."""
    with wave.open(str(source)) as reader:
        channels, width, src_rate = reader.getnchannels(), reader.getsampwidth(), reader.getframerate()
        if width != 2:
            raise ValueError(f"{source}: expected 16-bit PCM, got {8 * width}-bit")
        pcm = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2").astype(np.float64)
    mono = pcm.reshape(-1, channels).mean(axis=1)
    n_out = round(len(mono) * rate / src_rate)
    resampled = np.interp(np.arange(n_out) * src_rate / rate, np.arange(len(mono)), mono)
    padded = np.concatenate([np.zeros(round(lead_s * rate)), resampled, np.zeros(round(tail_s * rate))])
    with wave.open(str(target), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(np.clip(padded, -32768, 32767).astype("<i2").tobytes())
    return target


def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
