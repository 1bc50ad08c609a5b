"""Where pipelines put what they produce: typed outbound events, never bytes of a wire format.

A transport implements :class:`Outbox`: the WebSocket adapter (:mod:`streamvoice.runtime.wire`)
encodes each message with msgpack into its lanes, paced by credits; a WebRTC adapter would play
``tts_audio`` on an audio track and send the rest on a data channel. The pipelines cannot tell.
"""

from __future__ import annotations

from typing import Protocol

from streamvoice.protocol.messages import ServerMessage, TtsAudio


class Outbox(Protocol):
    def put(self, message: ServerMessage) -> None:
        """Control and transcript events (speech, partial, final, flow, error, tts_done); never blocks."""
        ...

    async def put_audio(self, message: TtsAudio) -> None:
        """One frame of synthesized audio; waits while the transport cannot take more."""
        ...

    def purge_audio(self, turn: int) -> int:
        """Drop the queued, unsent audio of a cancelled turn; returns how many frames."""
        ...
