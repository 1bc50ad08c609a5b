"""A bounded priority work queue with round-robin fairness across sessions. Pure: no threads.

Order of service:
1. Priority class, lowest value first: a turn's first TTS audio, then ASR finals, then ASR
   partials, then later TTS audio (:class:`Priority`).
2. Within a class, sessions take turns: after a session is served it goes to the back of the
   class's rotation, so one chatty session cannot starve the others.
3. Within a session and class, first in first out.

Bound: at most ``max_items`` items in all; :meth:`put` raises :class:`QueueFull` beyond it
(policy: the caller reports ``server_busy`` for that request; nothing queued is ever dropped
silently). The owner (the worker) provides locking.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Priority(IntEnum):
    """Work classes; a lower value is always served first."""

    TTS_FIRST = 0
    ASR_FINAL = 1
    ASR_PARTIAL = 2
    TTS_LATER = 3


class QueueFull(Exception):
    """The work queue is at its bound; the request was not queued."""


@dataclass(slots=True, eq=False)
class WorkItem:
    """One unit of work. ``payload`` is opaque to the queue; ``handle`` is the owner's (a future)."""

    priority: Priority
    session: str
    payload: Any
    turn: int | None = None
    handle: Any = None
    seq: int = field(default=0)


class WorkQueue:
    """See the module docstring."""

    def __init__(self, max_items: int = 1024) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self.max_items = max_items
        self._classes: dict[Priority, OrderedDict[str, deque[WorkItem]]] = {p: OrderedDict() for p in Priority}
        self._size = 0
        self._seq = itertools.count()

    def __len__(self) -> int:
        return self._size

    def depths(self) -> dict[Priority, int]:
        """Items queued per priority class."""
        return {p: sum(len(q) for q in sessions.values()) for p, sessions in self._classes.items()}

    def put(self, item: WorkItem) -> None:
        if self._size >= self.max_items:
            raise QueueFull(f"work queue full ({self.max_items} items)")
        item.seq = next(self._seq)
        self._classes[item.priority].setdefault(item.session, deque()).append(item)
        self._size += 1

    def pop(self) -> WorkItem | None:
        """The next item by priority, then session rotation; None when empty."""
        for priority in Priority:
            sessions = self._classes[priority]
            if not sessions:
                continue
            session, queue = next(iter(sessions.items()))
            item = queue.popleft()
            del sessions[session]
            if queue:
                sessions[session] = queue  # back of the rotation
            self._size -= 1
            return item
        return None

    def pop_batch(self, max_n: int, accept: Callable[[WorkItem], bool] | None = None) -> list[WorkItem]:
        """Up to ``max_n`` items in service order; stops at the first item ``accept`` refuses
        (which stays queued at the head of its class)."""
        out: list[WorkItem] = []
        while len(out) < max_n:
            head = self.peek()
            if head is None or (out and accept is not None and not accept(head)):
                break
            popped = self.pop()
            assert popped is head
            out.append(popped)
        return out

    def peek(self) -> WorkItem | None:
        for priority in Priority:
            sessions = self._classes[priority]
            if sessions:
                return next(iter(sessions.values()))[0]
        return None

    def remove(self, predicate: Callable[[WorkItem], bool]) -> list[WorkItem]:
        """Take out every queued item matching ``predicate`` (cancellation); returns them."""
        removed: list[WorkItem] = []
        for sessions in self._classes.values():
            for session in list(sessions):
                queue = sessions[session]
                keep = deque(i for i in queue if not predicate(i))
                if len(keep) != len(queue):
                    removed.extend(i for i in queue if predicate(i))
                    if keep:
                        sessions[session] = keep
                    else:
                        del sessions[session]
        self._size -= len(removed)
        return removed
