"""WebRTC calls with the real models (marked `models`): a speech clip on the microphone track is
captioned on the data channel, and a text comes back as speech on the track that transcribes to it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

from streamvoice.asr.backend import DecodeRequest
from streamvoice.audio.resample import resample
from streamvoice.audio.wavio import read_audio
from streamvoice.engine.engine import load_engine
from streamvoice.protocol.messages import Final, Text, TtsDone
from tests.server.test_server_models import models_config, words
from tests.webrtc.rtc_client import ClipTrack, RtcClient, needs_interface

pytestmark = [pytest.mark.models, needs_interface]


@pytest.fixture(scope="module")
def engine(models_dir: Path):  # type: ignore[no-untyped-def]
    eng = load_engine(models_config(models_dir))
    yield eng
    eng.close()


def clip_48k(data_dir: Path, name: str) -> np.ndarray:
    audio = read_audio(data_dir / name)
    samples, rate = (audio[0], audio[1]) if isinstance(audio, tuple) else (audio, 16000)
    return resample(np.asarray(samples, np.float32), int(rate), 48000)


async def test_speech_on_the_track_gives_a_right_final(start_server, engine, models_dir, data_dir,  # type: ignore[no-untyped-def]
                                                       references) -> None:
    srv = await start_server(engine=engine, config=models_config(models_dir))
    mic = ClipTrack(clip_48k(data_dir, "LJ001-0004.wav"))
    client = RtcClient(mic)
    try:
        status, body = await client.connect(srv.port, hello={"asr": {"language": "en"}})
        assert status == 200, body
        await client.next("ready", timeout=15)
        finals: list[Final] = []
        async with asyncio.timeout(90):
            while not (mic.done and finals and not finals[-1].eager):
                message = await client.next_any(("final",), timeout=90)
                if not message.eager:
                    finals.append(message)
        sent_end = mic.pcm.size / 48000
    finally:
        await client.close()
    ref = words(references["LJ001-0004.wav"])
    got = words(" ".join(f.text for f in finals))
    assert len(ref & got) / len(ref) >= 0.8, (finals, ref)
    assert finals[-1].end_s <= sent_end + 1.0  # audio time is the track's audio, resampled to 16 kHz


async def test_text_comes_back_as_speech_on_the_track(start_server, engine, models_dir) -> None:  # type: ignore[no-untyped-def]
    if not engine.tts_ready:
        pytest.skip("TTS model not loadable here")
    srv = await start_server(engine=engine, config=models_config(models_dir))
    client = RtcClient()
    try:
        status, body = await client.connect(srv.port)
        assert status == 200, body
        await client.next("ready", timeout=15)
        sent = time.monotonic()
        client.send(Text(text="The quick brown fox jumps over the lazy dog. It was a sunny day.", final=True))
        caption = await client.next("tts_text", timeout=60)
        done: TtsDone = await client.next("tts_done", timeout=60)
        await asyncio.sleep(0.3)
    finally:
        await client.close()
    assert done.status == "complete" and caption.text.startswith("The quick")
    heard = [h for h in client.heard if h.at >= sent]
    loud = [h for h in heard if h.rms > 0.01]
    assert loud, "speech on the track"
    print(f"first audio on the track {(loud[0].at - sent) * 1000:.0f} ms after the text (real models)")
    audio = np.concatenate([h.pcm for h in heard])
    assert len(audio) / 48000 > 2.0
    backend = engine.asr_backend()
    assert backend is not None
    request = DecodeRequest(resample(audio.astype(np.float32), 48000, 16000), 0.0, "", "en", "transcribe", False,
                            "final")
    text = " ".join(seg.text for seg in backend.decode(request).segments)
    got = words(text)
    assert len({"quick", "brown", "fox", "jumps", "lazy", "dog", "sunny", "day"} & got) >= 6, text
