"""The voice loop benchmark's pure parts, and its client against a scripted fake server (no models)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bench.voice_loop import CaptureClock, ClipRun, Utterance, is_settled, loop_samples, pcm_s16le, run_clip


def test_capture_clock_maps_audio_time_to_capture_wall_time() -> None:
    clock = CaptureClock(rate=100)
    clock.sent(10, wall=5.0)  # samples 0..9 left at 5.0: sample 10 (0.1 s) was captured then
    clock.sent(20, wall=6.0)
    assert clock.captured_at(0.05) == pytest.approx(4.95)
    assert clock.captured_at(0.15) == pytest.approx(5.95)
    assert clock.captured_at(0.2) == pytest.approx(6.0)
    assert clock.captured_at(0.25) is None  # never sent


def test_capture_clock_rejects_out_of_order_chunks() -> None:
    clock = CaptureClock(rate=100)
    clock.sent(10, wall=1.0)
    with pytest.raises(ValueError):
        clock.sent(10, wall=2.0)


def test_loop_samples_split_the_loop_and_skip_incomplete_utterances() -> None:
    clock = CaptureClock(rate=100)
    clock.sent(100, wall=11.0)  # 1 s of audio, captured from wall 10.0
    run = ClipRun(clip="c", duration_s=1.0, utterances={
        1: Utterance(1, speech_end_s=0.5, final_wall=11.5, text="hi", first_audio_wall=12.0),
        2: Utterance(2, speech_end_s=0.9, final_wall=None),
    })
    [sample] = loop_samples(run, clock)
    assert sample["speech_end_to_final_s"] == pytest.approx(1.0)
    assert sample["final_to_first_audio_s"] == pytest.approx(0.5)
    assert sample["speech_end_to_first_audio_s"] == pytest.approx(1.5)


def test_is_settled_waits_for_finals_and_replies() -> None:
    run = ClipRun(clip="c", duration_s=1.0)
    assert is_settled(run)
    run.utterances[1] = Utterance(1, speech_end_s=0.5)
    assert not is_settled(run)
    run.utterances[1].final_wall, run.utterances[1].text = 1.0, "hello"
    assert not is_settled(run)
    run.utterances[1].first_audio_wall = 2.0
    assert is_settled(run)
    run.utterances[2] = Utterance(2, final_wall=3.0, text="")  # nothing said: no reply expected
    assert is_settled(run)


def test_pcm_s16le_clips_and_scales() -> None:
    data = pcm_s16le(np.array([0.0, 1.0, -2.0], dtype=np.float32))
    assert np.frombuffer(data, dtype="<i2").tolist() == [0, 32767, -32767]


async def test_echo_client_against_a_scripted_server() -> None:
    websockets = pytest.importorskip("websockets")
    from streamvoice.protocol import (
        Audio,
        AudioFormat,
        Final,
        Ready,
        Speech,
        Text,
        TtsAudio,
        TtsDone,
        decode_client,
        encode,
    )

    got_text: list[str] = []

    async def handler(ws: Any) -> None:
        chunks = 0
        async for frame in ws:
            msg = decode_client(frame)
            if msg.type == "hello":
                fmt = AudioFormat(encoding="pcm_s16le", sample_rate=16000)
                await ws.send(encode(Ready(session="s", version=1, input_audio=fmt,
                                           output_audio=fmt.model_copy(update={"sample_rate": 24000}))))
            elif isinstance(msg, Audio):
                chunks += 1
                if chunks == 5:  # 0.1 s in: speech ended at 0.08 s, final right away
                    await ws.send(encode(Speech(event="end", utterance=1, time_s=0.08)))
                    await ws.send(encode(Final(utterance=1, text="hi", start_s=0.0, end_s=0.08)))
            elif isinstance(msg, Text):
                got_text.append(msg.text)
                await ws.send(encode(TtsAudio(turn=msg.turn or 1, seq=0, data=b"\0\0", sample_rate=24000,
                                              offset_ms=0)))
                await ws.send(encode(TtsDone(turn=msg.turn or 1)))

    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        audio = np.zeros(1600, dtype=np.float32)  # 0.1 s
        run, clock = await run_clip(f"ws://127.0.0.1:{port}", "fake", audio, language="en", min_tail_s=0.1,
                                    timeout_s=10.0)
    assert got_text == ["hi"]
    assert not run.timed_out and not run.errors
    [sample] = loop_samples(run, clock)
    assert sample["speech_end_to_first_audio_s"] >= sample["final_to_first_audio_s"] >= 0.0
