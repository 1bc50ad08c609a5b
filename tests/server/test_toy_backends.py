"""A new engine is one adapter file plus one loader line: a toy pair, served end to end.

The two ``monkeypatch.setitem`` lines below are the whole registration; the engine, the session,
the pipelines and the CLI driver take everything else from the adapters' declared capabilities.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from streamvoice.asr import loader as asr_loader
from streamvoice.client import connect
from streamvoice.config import load_config
from streamvoice.engine.engine import load_engine
from streamvoice.models.errors import ModelError
from streamvoice.protocol import AsrOptions, Final, TtsAudio, TtsDone, TtsOptions
from streamvoice.tts import loader as tts_loader
from streamvoice.tts.driver import SpeechDriver
from tests.server.conftest import url
from tests.server.test_server_fake_engine import speechlike


@pytest.fixture
def toy_config(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(asr_loader.ASR_BACKENDS, "toy", "tests.server.toy_backends:load_asr")
    monkeypatch.setitem(tts_loader.TTS_BACKENDS, "toy", "tests.server.toy_backends:load_tts")
    return load_config({}, {"server": {"port": 0}, "asr": {"backend": "toy", "model": "toy-asr"},
                            "tts": {"backend": "toy", "voice": "toy_low"}})


async def test_a_toy_engine_pair_serves_a_session(start_server, toy_config) -> None:  # type: ignore[no-untyped-def]
    engine = load_engine(toy_config)
    assert engine.voices == frozenset({"toy_low", "toy_high"})
    assert engine.tts_sample_rate == 16_000
    assert engine.asr_models == frozenset({"toy-asr"})
    srv = await start_server(engine=engine, config=toy_config)
    async with connect(url(srv), asr=AsrOptions(model="toy-asr"), tts=TtsOptions(voice="toy_high", sample_rate=16000),
                       credits="instant") as s:
        await s.send_audio(speechlike(1.6))
        await s.end_audio()
        await s.say("hello there")
        finals, audio, done = [], [], None
        async with asyncio.timeout(10):
            while done is None or not finals:
                m = await s.recv()
                if isinstance(m, Final):
                    finals.append(m)
                elif isinstance(m, TtsAudio):
                    audio.append(m)
                elif isinstance(m, TtsDone):
                    done = m
    assert finals[0].text.split()[0] == "toy"
    assert done.status == "complete"
    assert audio[0].sample_rate == 16000 and audio[0].words and audio[0].words[0].word == "hello"
    samples = np.frombuffer(b"".join(a.data for a in audio), "<i2")
    assert len(samples) == pytest.approx(len("hello there") * 160, abs=10)  # 10 ms per letter, no resampling


def test_the_cli_driver_speaks_with_the_toy_engine(toy_config) -> None:  # type: ignore[no-untyped-def]
    backend = tts_loader.load_tts_backend(toy_config)
    driver = SpeechDriver(backend, backend.g2p(), "toy_low")
    batches = list(driver.speak(["Hi ", "you."]))
    assert sum(f.samples for b in batches for f in b.frames) == pytest.approx(len("Hi you.") * 160, abs=10)
    with pytest.raises(ValueError, match="toy engine has"):
        SpeechDriver(backend, backend.g2p(), "af_heart")


def test_an_unknown_backend_names_the_known_ones() -> None:
    config = load_config({}, {"asr": {"backend": "tensorrt"}, "tts": {"backend": "tensorrt"}})
    with pytest.raises(ModelError, match=r"--asr-backend with one of: auto, ctranslate2, mlx"):
        asr_loader.load_asr_backend(config)
    with pytest.raises(ModelError, match=r"--tts-backend with one of: auto, onnxruntime, mlx"):
        tts_loader.load_tts_backend(config)


async def test_server_and_cli_driver_make_the_same_samples(start_server, toy_config) -> None:  # type: ignore[no-untyped-def]
    """One TTS turn object behind both faces: same deltas, same bytes (fades, framing, word offsets)."""
    deltas = ["Sure, ", "I can ", "help you with that. ", "Right away, ", "doctor."]
    engine = load_engine(toy_config)
    srv = await start_server(engine=engine, config=toy_config)

    async def pieces():  # type: ignore[no-untyped-def]
        for d in deltas:
            yield d

    data, words = [], []
    async with connect(url(srv), tts=TtsOptions(voice="toy_low", sample_rate=16000), credits="instant") as s:
        await s.say_stream(pieces())
        async with asyncio.timeout(10):
            while not isinstance(m := await s.recv(), TtsDone):
                if isinstance(m, TtsAudio):
                    data.append(m.data)
                    words += [(w.word, w.start_ms) for w in m.words or ()]
    backend = tts_loader.load_tts_backend(toy_config)
    frames = [f for b in SpeechDriver(backend, backend.g2p(), "toy_low").speak(deltas) for f in b.frames]
    assert b"".join(data) == b"".join(f.pcm for f in frames) and len(data) == len(frames) > 1
    assert words == [(w.word, int(w.start_s * 1000)) for f in frames for w in f.words]
