"""What the runtime reports for metrics; the server injects a Prometheus-backed implementation."""

from __future__ import annotations

from typing import Protocol


class Observer(Protocol):
    def frame_in(self, kind: str) -> None: ...
    def frame_out(self, kind: str) -> None: ...
    def asr_lag(self, ms: float) -> None: ...
    def partial_latency(self, s: float) -> None: ...
    def final_latency(self, s: float) -> None: ...
    def tts_first_audio(self, s: float) -> None: ...
    def dropped(self, what: str, amount: float) -> None: ...
    def error(self, code: str) -> None: ...
    def routing_delay(self, s: float) -> None: ...


class NullObserver:
    """Reports nothing (tests, in-process use)."""

    def frame_in(self, kind: str) -> None:
        pass

    def frame_out(self, kind: str) -> None:
        pass

    def asr_lag(self, ms: float) -> None:
        pass

    def partial_latency(self, s: float) -> None:
        pass

    def final_latency(self, s: float) -> None:
        pass

    def tts_first_audio(self, s: float) -> None:
        pass

    def dropped(self, what: str, amount: float) -> None:
        pass

    def error(self, code: str) -> None:
        pass

    def routing_delay(self, s: float) -> None:
        pass
