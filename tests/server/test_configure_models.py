"""`configure` through a real socket with the real Whisper models (marked `models`).

The session's recognition options change from the next utterance: a Spanish clip after
``configure {asr: {language: "es"}}`` comes back in Spanish, after ``{task: "translate"}`` in
English; ``asr.model`` selects one of the loaded models or is refused naming them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from streamvoice.client import connect
from streamvoice.config import load_config
from streamvoice.engine.engine import load_engine
from streamvoice.protocol import AsrOptions, ErrorMessage, Final, Ready
from streamvoice.textnorm import normalize
from tests.server.conftest import url
from tests.server.test_server_models import clip

pytestmark = pytest.mark.models

SPANISH = {"cantidad", "gente", "concentró", "todos", "pudieron", "funeral", "plaza", "pedro"}
ENGLISH = {"the", "people", "of", "not", "all", "were", "so", "many", "that"}


async def utterance_final(s, samples: np.ndarray) -> Final:  # type: ignore[no-untyped-def]
    """Send one utterance as fast as possible and wait for its final."""
    audio = np.concatenate([samples, np.zeros(16000, np.float32)])
    for i in range(0, len(audio), 3200):
        await s.send_audio(audio[i : i + 3200])
    await s.end_audio()
    async with asyncio.timeout(120):
        while not isinstance(m := await s.recv(), Final):
            assert not isinstance(m, ErrorMessage), m
    return m


def words(text: str) -> set[str]:
    return set(normalize(text).split())


async def test_language_task_and_model_follow_configure(  # type: ignore[no-untyped-def]
    start_server, models_dir: Path, data_dir: Path, references: dict[str, str]
) -> None:
    config = load_config({}, {"models": {"dir": str(models_dir)},
                              "asr": {"model": "whisper-base", "extra_models": ("whisper-tiny.en",)},
                              "server": {"port": 0, "max_asr_lag_ms": 60000}})
    engine = load_engine(config, tts=False)
    spanish = clip(data_dir, "fleurs-es-002.wav")
    try:
        srv = await start_server(engine=engine, config=config)
        async with connect(url(srv), asr=AsrOptions(language="en", partials=False)) as s:
            assert isinstance(s.ready, Ready) and s.ready.asr.model == "whisper-base"  # the server's default

            await s.configure(asr=AsrOptions(language="es"))
            heard = await utterance_final(s, spanish)
            assert heard.language == "es" and len(words(heard.text) & SPANISH) >= 5, heard.text

            await s.configure(asr=AsrOptions(language="es", task="translate"))
            translated = await utterance_final(s, spanish)
            got = words(translated.text)
            assert len(got & ENGLISH) >= 3 and len(got & SPANISH - {"funeral", "plaza", "pedro"}) == 0, translated.text
            assert translated.utterance == heard.utterance + 1

            await s.configure(asr=AsrOptions(model="whisper-tiny.en", language="en", task="transcribe"))
            english = await utterance_final(s, clip(data_dir, "LJ001-0008.wav"))
            ref = words(references["LJ001-0008.wav"])
            assert english.language == "en" and len(words(english.text) & ref) / len(ref) >= 0.8, english.text
            assert {model for model in engine.asr_models or ()} == {"whisper-base", "whisper-tiny.en"}

            await s.configure(asr=AsrOptions(model="whisper-large-v3"))
            async with asyncio.timeout(10):
                while not isinstance(m := await s.recv(), ErrorMessage):
                    pass
            assert m.code == "model_unavailable" and "whisper-base" in m.message and "whisper-tiny.en" in m.message
    finally:
        engine.close()
