"""What a loaded model backend can do, declared by the backend itself.

Why a record: the engine, the server and the faces decide from it (abandon a synthesis in
flight? which voices and languages to offer? word times or not?) instead of from a class name,
so a new engine is one adapter file that fills this in. Pure data (layer 1).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Capabilities:
    """A backend's declared abilities (every field has a safe default for a minimal adapter)."""

    sample_rate: int  # audio the backend takes (ASR) or makes (TTS), in Hz
    abortable: bool = False  # a run in progress can be abandoned from another thread (TTS)
    voices: tuple[str, ...] = ()  # voice names it speaks with (TTS); empty for ASR
    languages: tuple[str, ...] = ()  # ISO codes it handles; empty means any
    word_timings: bool = False  # results carry per-word start and end times
    parallel: int = 1  # calls it runs at once from different threads (the engine gives it that many workers)
