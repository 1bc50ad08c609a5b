"""`streamvoice mic`: missing PortAudio / devices give one clear error; the audio path works
end to end with a sounddevice stand-in fed a real clip, against the real server and models."""

from __future__ import annotations

import importlib.abc
import os
import socket
import sys
import wave
from pathlib import Path

import fake_sounddevice
import numpy as np
import pytest

from streamvoice.cli.main import main


def _stderr_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


class _NoPortAudio(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object, target: object = None) -> None:
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return None


def test_portaudio_missing(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoPortAudio(), *sys.meta_path])
    assert main(["mic"]) == 4
    lines = _stderr_lines(capsys)
    assert len(lines) == 1, lines
    assert "PortAudio is not available" in lines[0] and "libportaudio2" in lines[0]


def test_no_input_device(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice.build(devices=False))
    assert main(["mic"]) == 4
    lines = _stderr_lines(capsys)
    assert len(lines) == 1, lines
    assert lines[0].startswith("streamvoice mic: no audio input (microphone) device found")


def test_no_output_device_for_echo(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice.build(output=False))
    assert main(["mic", "--agent", "echo"]) == 4
    lines = _stderr_lines(capsys)
    assert len(lines) == 1, lines
    assert "no audio output (speaker) device found" in lines[0]


def test_server_unreachable(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice.build())
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"ws://127.0.0.1:{port}/v1/stream"
    assert main(["mic", "--server", url]) == 5
    lines = _stderr_lines(capsys)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"streamvoice mic: cannot reach {url}") and "streamvoice serve" in lines[0]


def _clip_pcm(path: Path) -> bytes:
    with wave.open(str(path)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, 16000)
        return reader.readframes(reader.getnframes())


def _require_server_parts() -> None:
    try:
        from streamvoice.client import connect  # noqa: F401
        from streamvoice.server.app import Server  # noqa: F401
    except ImportError as exc:
        reason = f"the server and Python client are needed for the mic audio path: {exc}"
        if os.environ.get("STREAMVOICE_REQUIRE_MODELS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.mark.models
@pytest.mark.slow
def test_mic_echo_audio_path(
    models_dir: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _require_server_parts()
    fake = fake_sounddevice.build(clip=_clip_pcm(data_dir / "LJ001-0004.wav"))
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    code = main(["--models-dir", str(models_dir), "mic", "--language", "en", "--agent", "echo", "--duration", "40"])
    out = capsys.readouterr()
    assert code == 0, out.err
    text = out.out.lower()
    assert "block books" in text and "printed" in text, out.out
    played = np.frombuffer(bytes(fake.played), dtype="<i2").astype(np.float64)
    voiced = np.sqrt(np.mean(played.reshape(-1, 480) ** 2, axis=1)) > 300  # 20 ms windows at 24 kHz
    assert voiced.sum() * 0.02 > 1.0, "the echoed speech was not played through the output device"
