from __future__ import annotations

import pytest

from streamvoice.engine.workqueue import Priority, QueueFull, WorkItem, WorkQueue


def item(p: Priority, session: str, payload: object = None, turn: int | None = None) -> WorkItem:
    return WorkItem(priority=p, session=session, payload=payload, turn=turn)


def drain(q: WorkQueue) -> list[object]:
    out = []
    while (i := q.pop()) is not None:
        out.append(i.payload)
    return out


def test_priority_classes_are_served_in_order() -> None:
    q = WorkQueue()
    q.put(item(Priority.TTS_LATER, "a", "later"))
    q.put(item(Priority.ASR_PARTIAL, "a", "partial"))
    q.put(item(Priority.ASR_FINAL, "a", "final"))
    q.put(item(Priority.TTS_FIRST, "a", "first"))
    assert drain(q) == ["first", "final", "partial", "later"]


def test_sessions_take_turns_within_a_class() -> None:
    q = WorkQueue()
    for n in range(3):
        q.put(item(Priority.ASR_PARTIAL, "chatty", f"c{n}"))
    q.put(item(Priority.ASR_PARTIAL, "quiet", "q0"))
    q.put(item(Priority.ASR_PARTIAL, "other", "o0"))
    assert drain(q) == ["c0", "q0", "o0", "c1", "c2"]


def test_bound_raises_and_nothing_is_lost() -> None:
    q = WorkQueue(max_items=2)
    q.put(item(Priority.ASR_FINAL, "a", 1))
    q.put(item(Priority.ASR_FINAL, "a", 2))
    with pytest.raises(QueueFull):
        q.put(item(Priority.ASR_FINAL, "b", 3))
    assert drain(q) == [1, 2]


def test_remove_by_session_and_turn() -> None:
    q = WorkQueue()
    q.put(item(Priority.TTS_LATER, "a", "a1", turn=1))
    q.put(item(Priority.TTS_LATER, "a", "a2", turn=2))
    q.put(item(Priority.TTS_LATER, "b", "b1", turn=1))
    removed = q.remove(lambda i: i.session == "a" and i.turn == 1)
    assert [i.payload for i in removed] == ["a1"]
    assert len(q) == 2
    assert drain(q) == ["a2", "b1"]


def test_pop_batch_stops_at_refused_item() -> None:
    q = WorkQueue()
    q.put(item(Priority.ASR_FINAL, "a", "fa"))
    q.put(item(Priority.ASR_PARTIAL, "b", "pb"))
    q.put(item(Priority.TTS_LATER, "c", "tc"))
    batch = q.pop_batch(8, lambda i: i.priority in (Priority.ASR_FINAL, Priority.ASR_PARTIAL))
    assert [i.payload for i in batch] == ["fa", "pb"]
    assert drain(q) == ["tc"]
