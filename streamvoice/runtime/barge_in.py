"""Barge-in as an explicit policy: when the user's voice stops the speech being played.

Why an object: whether hearing the user start to speak cancels the reply in progress is a product
decision (an agent that must finish a sentence, one that yields at once), not something to hide
in the path that sends messages. The session gives the ASR pipeline this policy's
:meth:`BargeIn.speech_started`; the policy decides and, if so, stops the TTS pipeline's turns.
A client's explicit ``cancel`` is not a policy matter and always stops.
"""

from __future__ import annotations

from collections.abc import Callable


class BargeIn:
    """``on_speech_start``: the user starting to speak cancels every turn not yet done."""

    def __init__(self, on_speech_start: bool, stop: Callable[[], object]) -> None:
        self.on_speech_start = on_speech_start
        self._stop = stop
        self.barge_ins = 0  # how many times speech was stopped by this policy

    def speech_started(self) -> bool:
        """The ASR pipeline heard speech begin; returns whether playback was stopped."""
        if not self.on_speech_start:
            return False
        self._stop()
        self.barge_ins += 1
        return True
