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
