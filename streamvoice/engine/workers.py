"""Worker threads per model: the only place where threads meet the event loop.

The loop submits work with :meth:`Worker.submit` and awaits a future; the thread takes items
from a :class:`~streamvoice.engine.workqueue.WorkQueue` (priority + fairness), runs them in
batches when the model gains from it, and hands results back with
``loop.call_soon_threadsafe``. Cancellation:
- a queued item whose awaiting coroutine is cancelled is taken out of the queue;
- :meth:`Worker.cancel` drops every queued item of a session (or one of its turns);
- a result that arrives for an item already cancelled is discarded (in-flight work of a
  cancelled TTS turn is abandoned: it finishes in the thread and is thrown away).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from streamvoice.engine.workqueue import Priority, QueueFull, WorkItem, WorkQueue

log = logging.getLogger(__name__)

#: Runs a batch of payloads (same order in, same order out). Called in the worker thread.
BatchRunner = Callable[[list[Any]], list[Any]]


def _deliver(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # cancelled meanwhile: abandon the result
        return
    if isinstance(error, asyncio.CancelledError):
        future.cancel()
    elif error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class Worker:
    """Threads serving one model (one by default; ``threads`` > 1 when the model runs that many
    calls at once, as CTranslate2 does with replicas). Start it from the event loop that will
    await its results."""

    def __init__(
        self,
        name: str,
        run_batch: BatchRunner,
        *,
        max_batch: int = 1,
        max_queue: int = 1024,
        batchable: Callable[[WorkItem, WorkItem], bool] | None = None,
        expected_errors: tuple[type[BaseException], ...] = (),
        on_thread_exit: Callable[[], None] | None = None,
        threads: int = 1,
    ) -> None:
        self.name = name
        self.threads = max(1, threads)
        self._expected_errors = expected_errors  # e.g. a cancelled turn's abort: no traceback in the log
        self._run_batch = run_batch
        self._on_thread_exit = on_thread_exit  # per-thread clean-up the model runtime needs (MLX streams)
        self.max_batch = max(1, max_batch)
        self._batchable = batchable
        self._queue = WorkQueue(max_queue)
        self._cond = threading.Condition()
        self._stopping = False
        self._pool: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.busy_s = 0.0  # wall seconds spent running work
        self.batches = 0
        self.items = 0

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the thread (once). Results go back to the loop each submitter awaited on."""
        self._loop = loop
        if self._pool:
            return
        self._pool = [threading.Thread(target=self._main, name=f"streamvoice-{self.name}-{i}", daemon=True)
                      for i in range(self.threads)]
        for thread in self._pool:
            thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop after the batch in flight; queued items are failed with CancelledError.

        Returns False if the batch in flight was still running after ``timeout``: a model call
        cannot be interrupted, and a process that exits while one runs is aborted by the C++
        runtime ("terminate called without an active exception"), so the caller must not simply
        return from ``main`` then (see ``streamvoice.cli.serve_cmd``)."""
        self.request_stop()
        deadline = time.monotonic() + timeout
        for thread in self._pool:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in self._pool):
            log.warning("worker %s: the model call in flight outlived the %.1f s stop wait", self.name, timeout)
            return False
        self._pool = []
        return True

    def request_stop(self) -> None:
        """Refuse new work and fail what is queued, without waiting (see :meth:`stop`)."""
        with self._cond:
            self._stopping = True
            leftover = self._queue.remove(lambda _i: True)
            self._cond.notify_all()
        for item in leftover:
            self._fail(item, asyncio.CancelledError())

    def depths(self) -> dict[Priority, int]:
        with self._cond:
            return self._queue.depths()

    async def submit(self, payload: Any, *, priority: Priority, session: str, turn: int | None = None) -> Any:
        """Queue ``payload`` and wait for its result (raises what the model raised).

        Raises :class:`QueueFull` when the queue is at its bound.
        """
        loop = asyncio.get_running_loop()
        if not self._pool:
            raise RuntimeError(f"worker {self.name!r} is not started; call Engine.start()")
        future: asyncio.Future[Any] = loop.create_future()
        item = WorkItem(priority=priority, session=session, payload=payload, turn=turn, handle=future)
        with self._cond:
            if self._stopping:
                raise RuntimeError(f"worker {self.name!r} is stopping")
            self._queue.put(item)  # may raise QueueFull
            self._cond.notify()
        try:
            return await future
        except asyncio.CancelledError:
            with self._cond:
                self._queue.remove(lambda i: i is item)
            raise

    def cancel(self, session: str, turn: int | None = None) -> int:
        """Drop queued items of ``session`` (only ``turn``'s when given); returns how many."""
        with self._cond:
            removed = self._queue.remove(
                lambda i: i.session == session and (turn is None or i.turn == turn)
            )
        for item in removed:
            future = item.handle
            if isinstance(future, asyncio.Future) and not future.done():
                future.cancel()
        return len(removed)

    # -- thread side ---------------------------------------------------------------------------
    def _main(self) -> None:
        try:
            self._serve()
        finally:
            if self._on_thread_exit is not None:
                self._on_thread_exit()

    def _serve(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and not len(self._queue):
                    self._cond.wait()
                if self._stopping:
                    return
                batch = self._take()
            started = time.perf_counter()
            try:
                results = self._run_batch([i.payload for i in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"{self.name}: {len(results)} results for {len(batch)} items")
            except BaseException as exc:  # handed to every awaiting coroutine, never lost
                if isinstance(exc, self._expected_errors):
                    log.debug("worker %s: batch of %d ended early: %s", self.name, len(batch), exc)
                elif len(batch) > 1:  # one session's bad item must not fail the others batched with it
                    log.warning("worker %s: batch of %d failed (%s); running its items one by one",
                                self.name, len(batch), exc)
                    self._run_alone(batch)
                    batch = []
                else:
                    log.exception("worker %s: batch of %d failed", self.name, len(batch))
                for item in batch:
                    self._fail(item, exc)
            else:
                for item, result in zip(batch, results, strict=True):
                    self._post(item, result, None)
            with self._cond:
                self.busy_s += time.perf_counter() - started
                self.batches += 1
                self.items += len(batch)

    def _run_alone(self, batch: list[WorkItem]) -> None:
        """Each item of a failed batch on its own: only the items that fail alone get the error."""
        for item in batch:
            try:
                results = self._run_batch([item.payload])
            except BaseException as exc:
                log.exception("worker %s: item of session %s failed", self.name, item.session)
                self._fail(item, exc)
            else:
                self._post(item, results[0] if results else None, None)

    def _take(self) -> list[WorkItem]:
        if self.max_batch == 1:
            first = self._queue.pop()
            return [first] if first is not None else []
        head = self._queue.peek()
        batchable = self._batchable
        if head is None:
            return []
        return self._queue.pop_batch(
            self.max_batch, None if batchable is None else (lambda i: batchable(head, i))
        )

    def _post(self, item: WorkItem, result: Any, error: BaseException | None) -> None:
        future = item.handle
        if not isinstance(future, asyncio.Future):
            return
        with contextlib.suppress(RuntimeError):  # loop closed: nobody is waiting any more
            future.get_loop().call_soon_threadsafe(_deliver, future, result, error)

    def _fail(self, item: WorkItem, error: BaseException) -> None:
        self._post(item, None, error)


__all__ = ["BatchRunner", "QueueFull", "Worker"]
