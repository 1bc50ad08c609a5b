"""Limits a server enforces and announces in ``ready``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from streamvoice.protocol.base import WireModel

PositiveInt = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Limits(WireModel):
    """Per-session limits; the defaults are the protocol's recommended values."""

    max_frame_bytes: PositiveInt = 1 << 20
    """Largest WebSocket message accepted, in bytes (1 MiB)."""
    max_text_chars: PositiveInt = 20_000
    """Most characters of ``text`` accepted in one TTS turn."""
    max_messages_per_s: PositiveInt = 200
    """Sustained client messages per second (burst of the same size allowed)."""
    max_audio_lead_ms: PositiveInt = 2_000
    """Most TTS audio, in milliseconds, the server sends ahead of the client's playback position."""
    max_unread_ms: PositiveInt = 10_000
    """A client whose socket takes no byte for this long while output waits is a slow consumer (§8.2)."""
    max_queued_bytes: PositiveInt = 2 << 20
    """Most outbound bytes the server holds for a session, unsent; beyond it: slow consumer (§8.2)."""
