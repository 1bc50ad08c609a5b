"""The live-socket fuzzer, short run: the real server with the real models, several fuzzing sessions at
once, and a healthy session beside them whose transcript must stay right (PROTOCOL.md conformance
under fuzz; the long run is ``python -m bench.reliability``)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bench.fuzz_live import run_fuzz
from streamvoice.client import connect
from streamvoice.engine.engine import load_engine
from tests.server.conftest import url
from tests.server.test_server_models import clip, finals_of, models_config, stream_file, words

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def engine(models_dir):  # type: ignore[no-untyped-def]
    eng = load_engine(models_config(models_dir))
    yield eng
    eng.close()


async def test_fuzzed_sessions_beside_a_healthy_one(start_server, engine, models_dir, data_dir, references,  # type: ignore[no-untyped-def]
                                                    caplog: pytest.LogCaptureFixture) -> None:
    config = models_config(models_dir, max_frame_bytes=65536, max_messages_per_s=100_000, max_sessions=64)
    srv = await start_server(engine=engine, config=config)
    caplog.set_level(logging.WARNING)

    async def healthy() -> set[str]:
        async with connect(url(srv)) as s:
            sender = asyncio.create_task(stream_file(s, clip(data_dir, "LJ001-0004.wav")))
            _, finals = await finals_of(s, 1, timeout=90)
            await sender
        return words(" ".join(f.text for f in finals))

    heard, stats = await asyncio.gather(
        healthy(), run_fuzz(url(srv), workers=4, frames=3000, seed=16, limits=srv.limits))
    figures = stats.figures()
    assert stats.frames >= 3000 and stats.sessions > 4, figures
    assert (stats.unanswered, stats.nonconforming, stats.internal_errors) == (0, 0, 0), figures
    assert {"bad_frame", "invalid_field", "unknown_type", "text_frame", "frame_too_large"} <= set(stats.error_codes)
    ref = words(references["LJ001-0004.wav"])
    assert len(ref & heard) / len(ref) >= 0.8, heard
    assert not [r for r in caplog.records if "crashed" in r.getMessage()]
    async with connect(url(srv)) as s:  # the server still opens sessions
        assert s.session_id
