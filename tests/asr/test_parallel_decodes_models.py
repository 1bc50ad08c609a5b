"""Decodes side by side: on CPU each CTranslate2 decode gets one thread and the model as many
replicas as cores (``asr.parallel_decodes``), and the engine one ASR thread per replica. Two
streams decoded at once must hear exactly what they hear one after the other."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from streamvoice.asr.backend import DecodeRequest
from streamvoice.audio.wavio import read_audio
from streamvoice.config import load_config
from streamvoice.engine.engine import Engine
from streamvoice.textnorm import wer

pytestmark = pytest.mark.models

CLIPS = ("LJ001-0001.wav", "LJ001-0002.wav", "LJ001-0003.wav", "LJ001-0001.wav")


def _request(audio: np.ndarray, stream: str) -> DecodeRequest:
    return DecodeRequest(audio=audio, offset_s=0.0, prompt="", language="en", task="transcribe",
                         word_timestamps=True, kind="final", stream_id=stream)


def _load(models_dir: Path, **asr: object):  # type: ignore[no-untyped-def]
    from streamvoice.asr.loader import load_asr_backend

    return load_asr_backend(load_config({}, {"models": {"dir": str(models_dir)}, "asr": asr}))


def test_default_on_cpu_is_one_thread_per_decode_and_a_decode_per_core(models_dir: Path) -> None:
    backend = _load(models_dir)
    assert backend.capabilities.parallel == (os.cpu_count() or 1)
    assert _load(models_dir, threads=2, parallel_decodes=0).capabilities.parallel == max(1, (os.cpu_count() or 1) // 2)


def test_parallel_decodes_hear_what_sequential_decodes_hear(
    models_dir: Path, data_dir: Path, references: dict[str, str]
) -> None:
    backend = _load(models_dir, threads=1, parallel_decodes=2)
    assert backend.capabilities.parallel == 2
    audio = [read_audio(data_dir / name)[0] for name in CLIPS]
    alone = [backend.decode(_request(a, f"s{i}")) for i, a in enumerate(audio)]
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(lambda ia: backend.decode(_request(ia[1], f"s{ia[0]}")), enumerate(audio)))
    for name, a, b in zip(CLIPS, alone, together, strict=True):
        text = " ".join(s.text for s in b.segments)
        assert text == " ".join(s.text for s in a.segments)
        assert [(w.word, w.start_s, w.end_s) for s in b.segments for w in s.words] == \
            [(w.word, w.start_s, w.end_s) for s in a.segments for w in s.words]
        assert wer(references[name], text) < 0.15


async def test_the_engine_runs_one_asr_thread_per_replica(models_dir: Path, data_dir: Path) -> None:
    backend = _load(models_dir, threads=1, parallel_decodes=2)
    engine = Engine(backend, asr_max_batch=1)
    await engine.start()
    try:
        audio = read_audio(data_dir / CLIPS[0])[0]
        results = await asyncio.gather(*(engine.asr(_request(audio, f"s{i}")) for i in range(4)))
        assert len({" ".join(s.text for s in r.segments) for r in results}) == 1  # the same clip, the same words
        assert engine._asr_worker.threads == 2
    finally:
        engine.close()
