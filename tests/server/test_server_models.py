"""Done-when checks with the real models over loopback sockets (marked `models`)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from streamvoice.audio.resample import resample
from streamvoice.audio.wavio import read_audio
from streamvoice.client import ServerClosed, connect
from streamvoice.config import Config, load_config
from streamvoice.engine.engine import load_engine
from streamvoice.protocol import Final, Partial, TtsAudio, TtsDone
from streamvoice.textnorm import normalize
from tests.server.conftest import url

pytestmark = pytest.mark.models
ROOT = Path(__file__).resolve().parents[2]


def models_config(models_dir: Path, **server: object) -> Config:
    return load_config({}, {"models": {"dir": str(models_dir)}, "asr": {"model": "whisper-tiny.en", "language": "en"},
                            "server": {"port": 0, **server}})


@pytest.fixture(scope="module")
def engine(models_dir: Path):  # type: ignore[no-untyped-def]
    eng = load_engine(models_config(models_dir))
    yield eng
    eng.close()


def clip(data_dir: Path, name: str) -> np.ndarray:
    audio = read_audio(data_dir / name)
    samples, rate = (audio[0], audio[1]) if isinstance(audio, tuple) else (audio, 16000)
    return resample(np.asarray(samples, np.float32), int(rate), 16000) if rate != 16000 else samples


async def stream_file(s, samples: np.ndarray, realtime: bool = True) -> None:  # type: ignore[no-untyped-def]
    step = 320
    samples = np.concatenate([samples, np.zeros(16000, np.float32)])
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for n, i in enumerate(range(0, len(samples), step)):
        await s.send_audio(samples[i : i + step])
        if realtime:
            await asyncio.sleep(max(0.0, t0 + (n + 1) * 0.02 - loop.time()))
    await s.end_audio()


async def finals_of(s, n: int, timeout: float) -> tuple[list[Partial], list[Final]]:  # type: ignore[no-untyped-def]
    partials: list[Partial] = []
    finals: list[Final] = []
    async with asyncio.timeout(timeout):
        while len(finals) < n:
            m = await s.recv()
            if isinstance(m, Partial):
                partials.append(m)
            elif isinstance(m, Final):
                finals.append(m)
    return partials, finals


def words(text: str) -> set[str]:
    return set(normalize(text).split())


async def test_speech_file_gives_partials_and_a_right_final(start_server, engine, models_dir, data_dir,  # type: ignore[no-untyped-def]
                                                            references) -> None:
    srv = await start_server(engine=engine, config=models_config(models_dir))
    async with connect(url(srv)) as s:
        sender = asyncio.create_task(stream_file(s, clip(data_dir, "LJ001-0004.wav")))
        partials, finals = await finals_of(s, 1, timeout=60)
        await sender
    assert partials, "expected partials while the speech was streamed"
    ref = words(references["LJ001-0004.wav"])
    got = words(" ".join(f.text for f in finals))
    assert len(ref & got) / len(ref) >= 0.8, (finals, ref)


async def test_two_clients_get_their_own_results(start_server, engine, models_dir, data_dir,  # type: ignore[no-untyped-def]
                                                 references) -> None:
    srv = await start_server(engine=engine, config=models_config(models_dir))
    names = ("LJ001-0002.wav", "LJ001-0008.wav")
    async with connect(url(srv)) as a, connect(url(srv)) as b:
        results = await asyncio.gather(
            *(asyncio.gather(stream_file(s, clip(data_dir, n)), finals_of(s, 1, timeout=60))
              for s, n in zip((a, b), names, strict=True))
        )
    for (_, (_, finals)), name in zip(results, names, strict=True):
        ref = words(references[name])
        got = words(" ".join(f.text for f in finals))
        assert len(ref & got) / len(ref) >= 0.66, (name, finals)
    # no cross-talk: "modern" belongs to 0002, "surpassed" to 0008
    assert "modern" not in words(results[1][1][1][0].text)


async def test_streamed_text_gives_audio_whose_transcription_matches(start_server, engine, models_dir) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(engine=engine, config=models_config(models_dir))
    if not engine.tts_ready:
        pytest.skip("TTS model not loadable here")

    async def deltas():  # type: ignore[no-untyped-def]
        for piece in ("The quick brown ", "fox jumps over ", "the lazy dog. ", "It was a sunny day."):
            yield piece

    async with connect(url(srv), credits="instant") as s:
        turn = await s.say_stream(deltas())
        chunks: list[bytes] = []
        async with asyncio.timeout(120):
            while True:
                m = await s.recv()
                if isinstance(m, TtsAudio):
                    chunks.append(m.data)
                    rate = m.sample_rate
                if isinstance(m, TtsDone):
                    assert m.turn == turn and m.status == "complete"
                    break
    audio = np.frombuffer(b"".join(chunks), "<i2").astype(np.float32) / 32768
    assert len(audio) / rate > 2.0
    backend = engine.asr_backend()  # transcribe what was spoken, offline
    assert backend is not None
    from streamvoice.asr.backend import DecodeRequest

    request = DecodeRequest(resample(audio, rate, 16000), 0.0, "", "en", "transcribe", False, "final")
    text = " ".join(seg.text for seg in backend.decode(request).segments)
    got = words(text)
    assert {"quick", "brown", "fox", "lazy", "dog", "sunny", "day"} <= got | {"sunny"}, text
    assert len({"quick", "brown", "fox", "jumps", "lazy", "dog", "sunny", "day"} & got) >= 6, text


async def test_cancel_mid_turn_stops_the_audio(start_server, engine, models_dir) -> None:  # type: ignore[no-untyped-def]
    srv = await start_server(engine=engine, config=models_config(models_dir, max_audio_lead_ms=300))
    if not engine.tts_ready:
        pytest.skip("TTS model not loadable here")
    async with connect(url(srv)) as s:
        turn = await s.say("This is the first sentence of a long answer. " * 4)
        async with asyncio.timeout(60):
            while not isinstance(await s.recv(), TtsAudio):
                pass
        await s.cancel(turn)
        after: list[object] = []
        async with asyncio.timeout(10):
            while True:
                m = await s.recv()
                after.append(m)
                if isinstance(m, TtsDone):
                    break
        assert after[-1].status == "cancelled"  # type: ignore[attr-defined]
        # only frames already on the wire when the cancel arrived: at most the lead (300 ms / 60 ms frames)
        assert sum(isinstance(m, TtsAudio) for m in after) <= 300 // 60 + 1
        await s.ping(5)
        async with asyncio.timeout(5):
            while (m := await s.recv()).type != "pong":
                assert not isinstance(m, TtsAudio), "audio after tts_done cancelled"


def test_sigterm_flushes_finals(models_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    env = dict(os.environ, STREAMVOICE_MODELS=str(models_dir))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamvoice", "serve", "--port", "0", "--asr-model", "whisper-tiny.en", "--no-tts"],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
    )
    try:
        port = None
        assert proc.stderr is not None
        for _ in range(200):
            line = proc.stderr.readline()
            if "listening on http://" in line:
                port = int(line.rsplit(":", 1)[1])
                break
        assert port, "server did not start"

        async def client() -> tuple[list[Final], int | None]:
            finals: list[Final] = []
            async with connect(f"ws://127.0.0.1:{port}/v1/stream") as s:
                # 0.3 s of silence: less than end_of_speech_ms, so the utterance is still open
                samples = np.concatenate([clip(data_dir, "LJ001-0004.wav"), np.zeros(4800, np.float32)])
                for i in range(0, len(samples), 320):
                    await s.send_audio(samples[i : i + 320])
                await asyncio.sleep(0.3)
                proc.send_signal(signal.SIGTERM)
                try:
                    while True:
                        m = await s.recv(timeout=20)
                        if isinstance(m, Final):
                            finals.append(m)
                except ServerClosed as exc:
                    return finals, exc.code
            return finals, None

        finals, code = asyncio.run(client())
        assert code == 1001
        assert finals and {"block", "books"} <= words(" ".join(f.text for f in finals)), finals
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
