"""The engine with stand-in models: threads, priorities, batching, cancellation."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from streamvoice.asr.backend import DecodeRequest, DecodeResult
from streamvoice.capabilities import Capabilities
from streamvoice.engine.engine import Engine, EngineUnavailable
from streamvoice.tts.types import PhonemizedChunk, SynthesisResult


def request(session: str, kind: str = "partial") -> DecodeRequest:
    return DecodeRequest(np.zeros(1600, np.float32), 0.0, "", "en", "transcribe", False, kind,  # type: ignore[arg-type]
                         stream_id=session)


class SlowAsr:
    name = "slow"
    multilingual = False

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.calls: list[list[str]] = []
        self.thread_ids: set[int] = set()
        self.gate = threading.Event()
        self.gate.set()

    def decode(self, r: DecodeRequest) -> DecodeResult:
        return self.decode_batch([r])[0]

    def decode_batch(self, rs: list[DecodeRequest]) -> list[DecodeResult]:
        self.gate.wait(5)
        self.thread_ids.add(threading.get_ident())
        self.calls.append([f"{r.stream_id}:{r.kind}" for r in rs])
        time.sleep(self.delay)
        return [DecodeResult((), "en", 1.0, self.delay) for _ in rs]


class SlowTts:
    name = "slow"
    capabilities = Capabilities(sample_rate=24000)

    def __init__(self) -> None:
        self.order: list[str] = []
        self.gate = threading.Event()

    def synthesize(self, chunk: PhonemizedChunk, voice: str, speed: float, abort: object = None) -> SynthesisResult:
        self.gate.wait(5)
        self.order.append(chunk.text)
        return SynthesisResult(np.zeros(240, np.float32), 24000, (), 0.0)


def chunk(text: str) -> PhonemizedChunk:
    return PhonemizedChunk(text, text, (), "en-us")


class WordG2P:
    def phonemize(self, text: str, voice: str) -> list[PhonemizedChunk]:
        return [chunk(text)]


async def test_asr_runs_off_the_loop_and_batches_across_sessions() -> None:
    asr = SlowAsr()
    engine = Engine(asr, asr_max_batch=4)
    await engine.start()
    try:
        asr.gate.clear()
        first = asyncio.create_task(engine.asr(request("s0")))
        await asyncio.sleep(0.05)  # s0 is in the model; the next three queue up meanwhile
        rest = [asyncio.create_task(engine.asr(request(f"s{i}"))) for i in range(1, 4)]
        await asyncio.sleep(0.02)
        asr.gate.set()
        results = await asyncio.gather(first, *rest)
        assert len(results) == 4
        assert threading.get_ident() not in asr.thread_ids
        assert asr.calls[0] == ["s0:partial"]
        assert sorted(asr.calls[1]) == ["s1:partial", "s2:partial", "s3:partial"]
        assert engine.batch_sizes == {1: 1, 3: 1}
    finally:
        engine.close()


async def test_finals_overtake_partials() -> None:
    asr = SlowAsr(0.0)
    engine = Engine(asr, asr_max_batch=1)
    await engine.start()
    try:
        asr.gate.clear()
        busy = asyncio.create_task(engine.asr(request("x")))
        await asyncio.sleep(0.05)
        p = asyncio.create_task(engine.asr(request("a", "partial")))
        await asyncio.sleep(0.01)
        f = asyncio.create_task(engine.asr(request("b", "final")))
        await asyncio.sleep(0.01)
        asr.gate.set()
        await asyncio.gather(busy, p, f)
        assert asr.calls[1:] == [["b:final"], ["a:partial"]]
    finally:
        engine.close()


async def test_cancel_drops_queued_tts_of_a_turn_and_first_chunks_go_first() -> None:
    tts = SlowTts()
    engine = Engine(None, tts, WordG2P())
    await engine.start()
    try:
        busy = asyncio.create_task(engine.synthesize(chunk("busy"), "af", 1.0, first=False, session="a", turn=1))
        await asyncio.sleep(0.05)
        later = asyncio.create_task(engine.synthesize(chunk("later-a1"), "af", 1.0, first=False, session="a", turn=1))
        other = asyncio.create_task(engine.synthesize(chunk("later-b1"), "af", 1.0, first=False, session="b", turn=1))
        first = asyncio.create_task(engine.synthesize(chunk("first-c1"), "af", 1.0, first=True, session="c", turn=1))
        await asyncio.sleep(0.02)
        engine.cancel("a", 1)
        tts.gate.set()
        await asyncio.gather(busy, other, first)
        with pytest.raises(asyncio.CancelledError):
            await later
        assert tts.order == ["busy", "first-c1", "later-b1"]
    finally:
        engine.close()


async def test_missing_models_say_so() -> None:
    engine = Engine(None)
    await engine.start()
    try:
        with pytest.raises(EngineUnavailable, match="ASR"):
            await engine.asr(request("a"))
        with pytest.raises(EngineUnavailable, match="TTS"):
            await engine.synthesize(chunk("x"), "af", 1.0, first=True, session="a", turn=1)
    finally:
        engine.close()


async def test_model_errors_reach_the_caller_and_the_worker_survives() -> None:
    class Broken(SlowAsr):
        def decode_batch(self, rs: list[DecodeRequest]) -> list[DecodeResult]:
            if rs[0].stream_id == "bad":
                raise RuntimeError("boom")
            return super().decode_batch(rs)

    engine = Engine(Broken(0.0), asr_max_batch=1)
    await engine.start()
    try:
        with pytest.raises(RuntimeError, match="boom"):
            await engine.asr(request("bad"))
        assert isinstance(await engine.asr(request("good")), DecodeResult)
    finally:
        engine.close()


def test_asr_models_name_what_sessions_may_choose() -> None:
    assert Engine({"base": SlowAsr(), "tiny": SlowAsr()}).asr_models == frozenset({"base", "tiny"})
    assert Engine(SlowAsr()).asr_models is None  # one unnamed backend serves any name
    assert Engine({}, SlowTts(), WordG2P()).asr_models is None  # TTS only: no session is refused for its ASR model


class ParallelAsr(SlowAsr):
    """Declares how many decodes it runs at once; records the most that were inside at one time."""

    def __init__(self, parallel: int) -> None:
        super().__init__(0.1)
        self.capabilities = Capabilities(sample_rate=16000, parallel=parallel)
        self.inside = 0
        self.most_inside = 0
        self._lock = threading.Lock()

    def decode_batch(self, rs: list[DecodeRequest]) -> list[DecodeResult]:
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        try:
            return super().decode_batch(rs)
        finally:
            with self._lock:
                self.inside -= 1


@pytest.mark.parametrize("parallel", [1, 2])
async def test_asr_decodes_run_side_by_side_as_many_as_the_backend_declares(parallel: int) -> None:
    asr = ParallelAsr(parallel)
    engine = Engine(asr, asr_max_batch=1)
    await engine.start()
    try:
        results = await asyncio.gather(*(engine.asr(request(f"s{i}")) for i in range(4)))
        assert len(results) == 4
        assert asr.most_inside == parallel
        assert len(asr.thread_ids) == parallel
    finally:
        engine.close()
