"""Inbound degradation ladder: from recognition lag to an announced level. Pure.

Levels (``flow.level``): 0 normal; 1 slower partials (cadence x ``slow_factor``); 2 finals only
(no partial decodes); 3 dropping the oldest unprocessed audio past ``max_lag_ms``.
Thresholds are fractions of ``max_lag_ms``: up at 25 % / 50 % / 100 %; down only once the lag
is below half of a level's threshold (hysteresis, so the level does not flap). Every change of
level, and every drop, is returned as a :class:`FlowChange` for the caller to send -- nothing is
degraded or dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass

UP = (0.25, 0.5, 1.0)  # lag / max_lag at which levels 1, 2, 3 begin


@dataclass(frozen=True, slots=True)
class FlowChange:
    level: int
    lag_ms: int
    dropped_ms: int = 0


class DegradeLadder:
    def __init__(self, max_lag_ms: int) -> None:
        if max_lag_ms <= 0:
            raise ValueError("max_lag_ms must be positive")
        self.max_lag_ms = max_lag_ms
        self.level = 0
        self.total_dropped_ms = 0

    def level_for(self, lag_ms: float) -> int:
        """Level after seeing ``lag_ms``, with hysteresis from the current level."""
        ratio = lag_ms / self.max_lag_ms
        level = self.level
        while level < 3 and ratio >= UP[level]:
            level += 1
        while level > 0 and ratio < UP[level - 1] / 2:
            level -= 1
        return level

    def update(self, lag_ms: float) -> FlowChange | None:
        """Feed the current lag; returns the change to announce, if any."""
        new = self.level_for(lag_ms)
        if new == self.level:
            return None
        self.level = new
        return FlowChange(new, int(lag_ms))

    def dropped(self, dropped_ms: float, lag_after_ms: float) -> FlowChange:
        """Audio was dropped at level 3: always announced."""
        self.total_dropped_ms += round(dropped_ms)
        self.level = self.level_for(lag_after_ms)
        return FlowChange(self.level, int(lag_after_ms), round(dropped_ms))
