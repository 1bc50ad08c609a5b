"""`streamvoice mic --webrtc` end to end (marked `models`): a sounddevice stand-in feeds a real clip,
the in-process server captions it over a call, and the echo comes back on the call's speech track
to the stand-in's speaker."""

from __future__ import annotations

import importlib.util
import sys
import wave
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from streamvoice.cli.main import main
from tests.webrtc.rtc_client import needs_interface

pytestmark = [pytest.mark.models, needs_interface]


def _fake_sounddevice() -> ModuleType:
    """The mic CLI tests' stand-in (tests/clients/fake_sounddevice.py), loaded from its file."""
    path = Path(__file__).parents[1] / "clients" / "fake_sounddevice.py"
    spec = importlib.util.spec_from_file_location("fake_sounddevice_for_webrtc", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _clip_pcm(path: Path) -> bytes:
    with wave.open(str(path)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, 16000)
        return reader.readframes(reader.getnframes())


def test_mic_webrtc_captions_and_plays_the_echo(models_dir: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    fake = _fake_sounddevice().build(clip=_clip_pcm(data_dir / "LJ001-0004.wav"))
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    code = main(["--models-dir", str(models_dir), "mic", "--webrtc", "--language", "en", "--agent", "echo",
                 "--duration", "25"])
    out = capsys.readouterr()
    assert code == 0, out.err
    text = out.out.lower()
    assert "block books" in text and "printed" in text, out.out
    played = np.frombuffer(bytes(fake.played), dtype="<i2").astype(np.float64)
    usable = played[: len(played) // 960 * 960]
    voiced = np.sqrt(np.mean(usable.reshape(-1, 960) ** 2, axis=1)) > 300  # 20 ms windows at 48 kHz
    assert voiced.sum() * 0.02 > 1.0, "the echoed speech on the call's track was not played"
