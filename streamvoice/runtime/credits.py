"""Outbound pacing of TTS audio from the client's playback credits. Pure: times are passed in.

The client reports ``flow{turn, played_ms, buffered_ms}``. The server keeps at most
``max_lead_ms`` of a turn's audio ahead of the played position. Until a client has sent any
report, it is assumed to play in real time from the moment the turn's first audio left
(real-time pacing); once it reports, only its reports count (a client that pauses playback
stops the audio, it is never flooded). The first chunk of a turn may always go, whatever its
size, so a chunk longer than the lead cannot stall a turn forever.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class _Turn:
    sent_ms: float = 0.0
    started_at: float | None = None  # when its first audio was sent
    played_ms: float = 0.0  # last reported position


class CreditPacer:
    """Per-session pacing state (see module docstring)."""

    def __init__(self, max_lead_ms: int) -> None:
        if max_lead_ms <= 0:
            raise ValueError("max_lead_ms must be positive")
        self.max_lead_ms = float(max_lead_ms)
        self._turns: dict[int, _Turn] = {}
        self._reporting = False  # the client sends credits
        self._current: int | None = None

    @property
    def client_reports(self) -> bool:
        return self._reporting

    def on_sent(self, turn: int, ms: float, now: float) -> None:
        state = self._turns.setdefault(turn, _Turn())
        if state.started_at is None:
            state.started_at = now
        state.sent_ms += ms
        self._current = turn

    def on_flow(self, turn: int | None, played_ms: int | None, buffered_ms: int | None) -> None:
        """Apply a client report (``turn`` None: the turn now playing)."""
        if played_ms is None and buffered_ms is None:
            return
        self._reporting = True
        key = self._current if turn is None else turn
        # only a turn whose audio is being sent (PROTOCOL 8.1: a report for a turn already done is
        # ignored). Kept for any id, reports made an entry per id, never removed (a session sending
        # flow with ever new turn ids grew without bound) and gave a turn not begun its credit ahead.
        state = None if key is None else self._turns.get(key)
        if state is None:
            return
        if played_ms is not None:
            state.played_ms = max(state.played_ms, float(played_ms))
        elif buffered_ms is not None:
            state.played_ms = max(state.played_ms, state.sent_ms - float(buffered_ms))

    def played_ms(self, turn: int, now: float) -> float:
        state = self._turns.get(turn)
        if state is None:
            return 0.0
        if self._reporting:
            return state.played_ms
        if state.started_at is None:
            return 0.0
        return max(state.played_ms, (now - state.started_at) * 1000.0)

    def wait_s(self, turn: int, next_ms: float, now: float) -> float:
        """Seconds to wait before ``next_ms`` more of ``turn`` may be sent (0: send now).

        With client reports the wait is unknown (``float('inf')``): wait for the next report.
        """
        state = self._turns.get(turn)
        if state is None or state.sent_ms == 0.0:
            return 0.0
        excess = state.sent_ms + next_ms - self.played_ms(turn, now) - self.max_lead_ms
        if excess <= 0:
            return 0.0
        return float("inf") if self._reporting else excess / 1000.0

    def lead_ms(self, turn: int, now: float) -> float:
        state = self._turns.get(turn)
        return 0.0 if state is None else max(0.0, state.sent_ms - self.played_ms(turn, now))

    def turns_tracked(self) -> int:
        """Turns with pacing state: those whose audio is being sent."""
        return len(self._turns)

    def end_turn(self, turn: int) -> None:
        self._turns.pop(turn, None)
        if self._current == turn:
            self._current = None
