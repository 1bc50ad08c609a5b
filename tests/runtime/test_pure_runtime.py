"""Credits, degradation ladder and lanes with plain data."""

from __future__ import annotations

import asyncio
import math

import pytest

from streamvoice.protocol.messages import Lane
from streamvoice.runtime.credits import CreditPacer
from streamvoice.runtime.degrade import DegradeLadder
from streamvoice.runtime.lanes import LaneOverflow, OutboundLanes, Outgoing


def test_realtime_pacing_without_credits() -> None:
    p = CreditPacer(max_lead_ms=1000)
    assert p.wait_s(1, 600, now=0.0) == 0.0  # first chunk always goes
    p.on_sent(1, 600, now=0.0)
    assert p.wait_s(1, 400, now=0.0) == 0.0  # 1000 ms lead allowed
    p.on_sent(1, 400, now=0.0)
    assert p.wait_s(1, 100, now=0.0) == pytest.approx(0.1)
    assert p.wait_s(1, 100, now=0.1) == 0.0  # 100 ms played at real time


def test_client_credits_rule_once_reported() -> None:
    p = CreditPacer(max_lead_ms=500)
    p.on_sent(1, 500, now=0.0)
    p.on_flow(1, played_ms=0, buffered_ms=None)
    assert math.isinf(p.wait_s(1, 100, now=100.0))  # paused client: never flooded
    p.on_flow(1, played_ms=200, buffered_ms=None)
    assert p.wait_s(1, 100, now=100.0) == 0.0
    assert p.lead_ms(1, now=100.0) == 300


def test_buffered_ms_report_counts_as_credit() -> None:
    p = CreditPacer(max_lead_ms=500)
    p.on_sent(3, 500, now=0.0)
    p.on_flow(None, played_ms=None, buffered_ms=100)  # the turn now playing
    assert p.played_ms(3, now=0.0) == 400


def test_reports_for_turns_not_being_sent_are_ignored_and_kept_nowhere() -> None:
    p = CreditPacer(max_lead_ms=500)
    p.on_sent(1, 500, now=0.0)
    p.end_turn(1)
    for turn in range(1, 5000):  # done, not begun, never to be: a session may send any id
        p.on_flow(turn, played_ms=60_000, buffered_ms=None)
    assert p.turns_tracked() == 0
    p.on_sent(2, 500, now=0.0)  # turn 2 begins: the report made before it gives it no credit
    assert p.lead_ms(2, now=0.0) == 500
    assert math.isinf(p.wait_s(2, 100, now=0.0))  # the client reports: wait for its next report
    p.on_flow(2, played_ms=300, buffered_ms=None)
    assert p.lead_ms(2, now=0.0) == 200 and p.turns_tracked() == 1


def test_ladder_steps_up_and_down_with_hysteresis() -> None:
    ladder = DegradeLadder(max_lag_ms=4000)
    assert ladder.update(500) is None
    change = ladder.update(1000)
    assert change is not None and change.level == 1
    assert ladder.update(2100).level == 2  # type: ignore[union-attr]
    assert ladder.update(4000).level == 3  # type: ignore[union-attr]
    assert ladder.update(3000) is None  # hysteresis: stays at 3 until below 2000
    assert ladder.update(1900).level == 2  # type: ignore[union-attr]
    assert ladder.update(100).level == 0  # type: ignore[union-attr]


def test_ladder_announces_every_drop() -> None:
    ladder = DegradeLadder(max_lag_ms=4000)
    ladder.update(5000)
    change = ladder.dropped(3000, lag_after_ms=2000)
    assert change.dropped_ms == 3000 and ladder.total_dropped_ms == 3000


def out(lane: Lane, kind: str, turn: int | None = None) -> Outgoing:
    return Outgoing(lane, kind.encode(), kind, turn)


async def test_lanes_priority_control_then_transcripts_then_audio() -> None:
    lanes = OutboundLanes()
    lanes.put(out(Lane.AUDIO, "tts_audio", 1))
    lanes.put(out(Lane.TRANSCRIPT, "final"))
    lanes.put(out(Lane.CONTROL, "error"))
    got = [(await lanes.get()).kind for _ in range(3)]  # type: ignore[union-attr]
    assert got == ["error", "final", "tts_audio"]


async def test_transcript_lane_drops_oldest_partial_then_overflows() -> None:
    lanes = OutboundLanes(transcript_max=2)
    lanes.put(out(Lane.TRANSCRIPT, "partial"))
    lanes.put(out(Lane.TRANSCRIPT, "final"))
    lanes.put(out(Lane.TRANSCRIPT, "final"))  # the partial goes
    assert lanes.dropped_partials == 1
    with pytest.raises(LaneOverflow):
        lanes.put(out(Lane.TRANSCRIPT, "final"))


async def test_audio_lane_waits_for_room_and_purges_a_turn() -> None:
    lanes = OutboundLanes(audio_max=2)
    await lanes.put_audio(out(Lane.AUDIO, "tts_audio", 1))
    await lanes.put_audio(out(Lane.AUDIO, "tts_audio", 1))
    blocked = asyncio.create_task(lanes.put_audio(out(Lane.AUDIO, "tts_audio", 2)))
    await asyncio.sleep(0.01)
    assert not blocked.done()
    assert lanes.purge_turn(1) == 2
    await asyncio.wait_for(blocked, 1)
    item = await lanes.get()
    assert item is not None and item.turn == 2


async def test_closed_lanes_end_the_writer() -> None:
    lanes = OutboundLanes()
    lanes.put(out(Lane.CONTROL, "bye"))
    lanes.put(out(Lane.AUDIO, "tts_audio", 1))
    lanes.close(drop_pending=True)
    first = await lanes.get()
    assert first is not None and first.kind == "bye"
    assert await lanes.get() is None
