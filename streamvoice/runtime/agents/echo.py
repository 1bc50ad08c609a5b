"""The echo agent: says back what it heard. A loop check that needs no LLM."""

from __future__ import annotations

from collections.abc import AsyncIterator

from streamvoice.runtime.agent import Heard, UserTurn


class EchoAgent:
    """Replies with the user's own words, in one delta."""

    def __init__(self) -> None:
        self.heard_log: list[Heard] = []  # what each reply's listener heard (tests read it)

    async def reply(self, turn: UserTurn) -> AsyncIterator[str]:
        yield turn.text

    def heard(self, turn: UserTurn, heard: Heard) -> None:
        self.heard_log.append(heard)

    async def aclose(self) -> None:
        return None
