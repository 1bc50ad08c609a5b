"""Which speech turn a ``text`` message belongs to, and how much text the open turn holds (pure).

Rules (PROTOCOL 5.4): a turn stays open until a ``text`` with ``final=true`` (or a ``cancel`` of
it); while open, text without a turn id, or with its id, belongs to it; a new turn id must be
greater than every earlier one; one turn holds at most ``max_text_chars`` characters.
"""

from __future__ import annotations

from streamvoice.protocol.errors import ErrorCode, ProtocolError


class TurnTracker:
    """Turn ids and the open turn's character count of one session."""

    def __init__(self) -> None:
        self.open_turn: int | None = None
        self.last_turn = 0
        self._chars = 0

    def accept(self, requested: int | None, chars: int, final: bool, limit: int) -> int:
        """The turn this text belongs to; ``ProtocolError`` (not fatal) when it breaks a rule."""
        turn = self._resolve(requested)
        total = (self._chars if turn == self.open_turn else 0) + chars
        if total > limit:
            raise ProtocolError(
                ErrorCode.TEXT_TOO_LONG,
                f"turn {turn} would exceed max_text_chars={limit}; end the turn and start another",
                ref_type="text",
                ref_seq=turn,
            )
        self.open_turn, self.last_turn, self._chars = turn, turn, total
        if final:
            self.open_turn, self._chars = None, 0
        return turn

    def server_turn(self, turn: int) -> None:
        """A turn the server speaks (its own, an agent's reply): a new client turn comes after it."""
        if self.open_turn is None:
            self.last_turn = max(self.last_turn, turn)

    def cancel(self, turn: int | None) -> None:
        """A ``cancel`` of ``turn`` (None: all) closes the open turn it names."""
        if turn is None or turn == self.open_turn:
            self.open_turn, self._chars = None, 0

    def _resolve(self, requested: int | None) -> int:
        open_turn = self.open_turn
        if open_turn is not None:
            if requested is None or requested == open_turn:
                return open_turn
            raise ProtocolError(
                ErrorCode.BAD_STATE,
                f"turn {open_turn} is still open; end it with final=true before turn {requested}",
                ref_type="text",
                ref_seq=requested,
            )
        if requested is None:
            return self.last_turn + 1
        if requested > self.last_turn:
            return requested
        raise ProtocolError(
            ErrorCode.BAD_STATE,
            f"turn ids must increase: {requested} is not after {self.last_turn}",
            ref_type="text",
            ref_seq=requested,
        )
