"""What a voice agent is to the session: a small interface, so echo, an LLM or any callable fits.

The session hands the agent each user turn (a ``final``) and speaks the text deltas it yields as
one TTS turn, sentence by sentence, while they still arrive. When the turn's audio ends the agent
learns what the user actually heard (:class:`Heard`), so a history can keep only that. Agents
never see the wire, the pipelines or the outbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class UserTurn:
    """One thing the user said: the text of a ``final`` (utterance ids as on the wire)."""

    utterance: int
    text: str
    eager: bool = False  # from an eager final: the user may still go on (then the reply is withdrawn)


@dataclass(frozen=True, slots=True)
class Heard:
    """How a reply ended for the listener: ``heard_text`` is what played before it stopped."""

    reply_text: str  # every delta the agent yielded
    heard_text: str  # the words the client played (all of them when the turn completed)
    complete: bool  # the turn's audio was sent to its end (not cancelled, not failed)
    withdrawn: bool = False  # the user went on speaking after an eager final: forget this turn entirely


class AgentFailed(Exception):
    """The agent could not answer; the message reaches the client as ``error`` ``agent_failed``."""


class Agent(Protocol):
    """One session's agent. :meth:`reply` may raise :class:`AgentFailed` (or be cancelled)."""

    def reply(self, turn: UserTurn) -> AsyncIterator[str]:
        """Text deltas of the answer to ``turn``, as soon as each is known."""
        ...

    def heard(self, turn: UserTurn, heard: Heard) -> None:
        """The reply to ``turn`` is over; ``heard`` says what the user heard of it."""
        ...

    async def aclose(self) -> None:
        """The session ended: release connections."""
        ...


AgentFactory = Callable[[], Agent]  # one agent per session (histories are per conversation)
