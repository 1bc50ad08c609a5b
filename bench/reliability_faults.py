"""Fault cases, each with its outcome: a client killed mid-turn, an engine exception in a worker,
SIGTERM under load. Speech comes from tests/data (LJ Speech, public domain) with its reference."""

from __future__ import annotations

import asyncio
import csv
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.reliability_server import ServerProcess
from streamvoice.audio.resample import resample
from streamvoice.audio.wavio import read_audio
from streamvoice.client import ServerClosed, connect
from streamvoice.protocol import ErrorMessage, Final, TtsAudio, TtsDone
from streamvoice.textnorm import normalize

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
CLIP = "LJ001-0004.wav"


def clip(name: str = CLIP) -> np.ndarray:
    audio = read_audio(DATA / name)
    samples, rate = (audio[0], audio[1]) if isinstance(audio, tuple) else (audio, 16000)
    samples = np.asarray(samples, np.float32)
    return resample(samples, int(rate), 16000) if rate != 16000 else samples


def reference(name: str = CLIP) -> str:
    with (DATA / "SOURCES.txt").open() as handle:
        rows = csv.reader((line for line in handle if not line.startswith("#")), delimiter="\t")
        return next(row[2] for row in rows if len(row) >= 3 and row[0] == name)


def recall(text: str, name: str = CLIP) -> float:
    """Share of the reference's words heard (the healthy session's transcript check)."""
    ref = set(normalize(reference(name)).split())
    return len(ref & set(normalize(text).split())) / len(ref)


async def stream(s: Any, samples: np.ndarray, *, realtime: bool = True, end: bool = True) -> None:
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for n, i in enumerate(range(0, len(samples), 320)):
        await s.send_audio(samples[i : i + 320])
        if realtime:
            await asyncio.sleep(max(0.0, t0 + (n + 1) * 0.02 - loop.time()))
    if end:
        await s.end_audio()


async def speak_and_check(url: str, *, until: asyncio.Event | None = None) -> list[float]:
    """The healthy session: stream the clip in real time (again and again until ``until``); recall of each final."""
    recalls: list[float] = []
    samples = np.concatenate([clip(), np.zeros(16000, np.float32)])
    async with connect(url) as s:
        while True:
            sender = asyncio.create_task(stream(s, samples))
            async with asyncio.timeout(120):
                while not isinstance(m := await s.recv(), Final):
                    if isinstance(m, ErrorMessage):
                        raise RuntimeError(f"healthy session got an error: {m}")
            await sender
            recalls.append(recall(m.text))
            if until is None or until.is_set():
                return recalls


LONG_REPLY = "This is a long reply that the client will never hear to the end, because it goes away. " * 3


async def speak_reply(url: str) -> None:
    """One whole long reply, heard to its end (instant credits): warms synthesis to its largest input."""
    async with connect(url, credits="instant") as s:
        await s.say(LONG_REPLY)
        async with asyncio.timeout(120):
            while not isinstance(await s.recv(), TtsDone):
                pass


async def killed_mid_turn(server: ServerProcess) -> dict[str, Any]:
    """A client streaming speech and hearing a reply is killed (no close frame); the server frees it."""
    s = await connect(server.url)
    await s.say(LONG_REPLY)
    sender = asyncio.create_task(stream(s, clip(), end=False))
    async with asyncio.timeout(60):
        while not isinstance(await s.recv(), TtsAudio):
            pass
    sender.cancel()
    s.ws.transport.abort()
    crashes = server.crashes()
    await asyncio.sleep(2.0)
    async with connect(server.url) as probe:
        await probe.ping(1)
        async with asyncio.timeout(10):
            while (await probe.recv()).type != "pong":
                pass
    return {"server_alive": server.alive(), "next_session_answers": True, "new_crashes": server.crashes() - crashes}


async def engine_exception(url: str, inject: Any, sessions: int = 3) -> dict[str, Any]:
    """The ASR backend raises for one session's decodes (``inject(session_id)``): that session gets
    ``internal`` and close 1011, the others their right finals and no error."""
    clients = [await connect(url) for _ in range(sessions)]
    inject(clients[0].session_id)
    samples = np.concatenate([clip(), np.zeros(16000, np.float32)])

    async def run(s: Any) -> dict[str, Any]:
        errors: list[str] = []
        final = None
        close = None
        sender = asyncio.create_task(stream(s, samples))
        try:
            async with asyncio.timeout(120):
                while final is None:
                    m = await s.recv()
                    if isinstance(m, ErrorMessage):
                        errors.append(m.code)
                    elif isinstance(m, Final):
                        final = m.text
        except ServerClosed as exc:
            close = exc.code
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        return {"errors": errors, "close": close, "recall": None if final is None else recall(final)}

    results = await asyncio.gather(*(run(s) for s in clients))
    for s in clients:
        await s.close()
    victim, others = results[0], results[1:]
    return {
        "victim_errors": victim["errors"], "victim_close": victim["close"],
        "others_errors": [o["errors"] for o in others], "others_recall": [o["recall"] for o in others],
        "ok": victim["errors"] == ["internal"] and victim["close"] == 1011
        and all(not o["errors"] and (o["recall"] or 0) >= 0.8 for o in others),
    }


async def sigterm_under_load(make_server: Any, sessions: int = 3) -> dict[str, Any]:
    """SIGTERM while sessions stream speech (utterance open) and hear replies: each gets its final,
    then ``bye`` and 1001; the process exits 0."""
    server: ServerProcess = make_server()
    await server.ready()
    samples = clip()

    async def run(s: Any) -> tuple[int, int | None]:
        finals = 0
        try:
            while True:
                m = await s.recv(timeout=30)
                finals += isinstance(m, Final)
        except ServerClosed as exc:
            return finals, exc.code
        except TimeoutError:
            return finals, None

    clients = [await connect(server.url) for _ in range(sessions)]
    for s in clients:
        await s.say("A reply that is still being spoken when the server stops. " * 2)
    await asyncio.gather(*(stream(s, samples, end=False) for s in clients))  # utterances still open
    await asyncio.sleep(0.2)
    started = time.monotonic()
    server.terminate()
    outcomes = await asyncio.gather(*(run(s) for s in clients))
    code = await asyncio.get_running_loop().run_in_executor(None, server.stop, 60.0)
    stop_s = time.monotonic() - started
    crashes = server.crashes()
    return {"sessions": sessions, "finals_flushed": sum(1 for f, _ in outcomes if f >= 1),
            "close_codes": [c for _, c in outcomes], "exit_code": code, "stop_s": round(stop_s, 2),
            "crashes": crashes,
            "ok": all(f >= 1 and c == 1001 for f, c in outcomes) and code == 0 and crashes == 0}
