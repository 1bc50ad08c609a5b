"""The LLM conversation, kept within a token budget; assistant turns hold only what was heard.

Why only what was heard: after a barge-in the user never heard the rest of the reply, and an LLM
that believes it said it answers the wrong conversation. Oldest turns go first when the budget
is exceeded; the system message always stays. Counting: :func:`token_counter` (tiktoken), plus a
few tokens per message for the chat format's framing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from streamvoice.runtime.agents.tokens import token_counter

PER_MESSAGE_TOKENS = 4  # role and separators of the chat format, per message


class History:
    def __init__(self, budget_tokens: int, system: str | None = None,
                 count: Callable[[str], int] | None = None) -> None:
        self.budget = budget_tokens
        self.system = system
        self._count = count or token_counter()[1]
        self._turns: deque[tuple[dict[str, str], int]] = deque()  # (message, its tokens)
        self._tokens = 0

    def add(self, role: str, content: str) -> None:
        """Append a message, then drop the oldest until the budget holds (the newest always stays)."""
        message = {"role": role, "content": content}
        tokens = self._count(content) + PER_MESSAGE_TOKENS
        self._turns.append((message, tokens))
        self._tokens += tokens
        fixed = self._count(self.system) + PER_MESSAGE_TOKENS if self.system else 0
        while len(self._turns) > 1 and self._tokens + fixed > self.budget:
            _, dropped = self._turns.popleft()
            self._tokens -= dropped

    def retract(self, role: str, content: str) -> bool:
        """Take back the newest message if it is this one (a withdrawn eager turn)."""
        if not self._turns or self._turns[-1][0] != {"role": role, "content": content}:
            return False
        _, tokens = self._turns.pop()
        self._tokens -= tokens
        return True

    @property
    def tokens(self) -> int:
        return self._tokens + (self._count(self.system) + PER_MESSAGE_TOKENS if self.system else 0)

    def messages(self) -> list[dict[str, str]]:
        """What the next request sends: system first, then the kept turns in order."""
        head = [{"role": "system", "content": self.system}] if self.system else []
        return head + [dict(m) for m, _ in self._turns]
