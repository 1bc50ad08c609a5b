"""A failing item of one session must not fail the items of other sessions batched with it."""

from __future__ import annotations

import asyncio
import threading

from streamvoice.engine.workers import Worker
from streamvoice.engine.workqueue import Priority


async def test_a_failed_batch_fails_only_the_item_that_fails_alone() -> None:
    gate = threading.Event()
    seen: list[list[str]] = []

    def run(payloads: list[str]) -> list[str]:
        gate.wait(5)  # hold the first call so that the rest queue up and are batched together
        seen.append(list(payloads))
        if "bad" in payloads:
            raise RuntimeError("injected fault")
        return [p.upper() for p in payloads]

    worker = Worker("t", run, max_batch=4)
    worker.start(asyncio.get_running_loop())
    try:
        first = asyncio.create_task(worker.submit("warm", priority=Priority.ASR_FINAL, session="w"))
        await asyncio.sleep(0.05)
        tasks = [asyncio.create_task(worker.submit(p, priority=Priority.ASR_FINAL, session=s))
                 for p, s in (("ok1", "a"), ("bad", "b"), ("ok2", "c"))]
        await asyncio.sleep(0.05)
        gate.set()
        assert await first == "WARM"
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        worker.stop()
    assert results[0] == "OK1" and results[2] == "OK2"
    assert isinstance(results[1], RuntimeError)
    assert ["ok1", "bad", "ok2"] in seen  # they were batched, then retried one by one
    assert ["bad"] in seen


async def test_stop_says_when_a_model_call_outlives_the_wait() -> None:
    gate = threading.Event()

    def run(payloads: list[str]) -> list[str]:
        gate.wait(5)  # a model call that cannot be interrupted
        return payloads

    worker = Worker("slow", run)
    worker.start(asyncio.get_running_loop())
    task = asyncio.create_task(worker.submit("x", priority=Priority.ASR_FINAL, session="a"))
    queued = asyncio.create_task(worker.submit("y", priority=Priority.ASR_FINAL, session="b"))
    await asyncio.sleep(0.05)
    try:
        assert worker.stop(timeout=0.1) is False  # still inside the call: the caller must not exit under it
        assert isinstance((await asyncio.gather(queued, return_exceptions=True))[0], asyncio.CancelledError)
    finally:
        gate.set()
    assert await task == "x"  # the call in flight finishes and is delivered
    assert worker.stop(timeout=2.0) is True
