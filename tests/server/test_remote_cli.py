"""The CLI's remote helpers against a fake-engine server."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest

from streamvoice.cli.remote import remote_say, remote_transcribe
from tests.server.conftest import url


async def test_remote_say_writes_a_wav(start_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server()
    out = tmp_path / "out.wav"
    assert await remote_say(url(srv), "Hello there. How are you today?", {}, out, json_out=False) == 0
    with wave.open(str(out)) as w:
        assert w.getframerate() == 24000 and w.getnframes() / 24000 > 1.0


async def test_remote_transcribe_prints_finals(start_server, data_dir: Path,  # type: ignore[no-untyped-def]
                                               capsys: pytest.CaptureFixture[str]) -> None:
    srv = await start_server()
    assert await remote_transcribe(url(srv), data_dir / "LJ001-0002.wav", {}, json_out=True) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {line["type"] for line in lines} <= {"speech_start", "speech_end", "partial", "final"}
    assert all("audio_s" in line and "wall_s" in line for line in lines)
    finals = [line for line in lines if line["type"] == "final"]
    assert finals and finals[0]["utterance"] == 1 and "hello" in finals[0]["text"]
    assert lines.index(finals[0]) > 0 and lines[0]["type"] == "speech_start"


async def test_remote_reports_unreachable_server(tmp_path: Path) -> None:
    assert await remote_say("ws://127.0.0.1:9/v1/stream", "hi", {}, tmp_path / "x.wav", json_out=False) == 1
