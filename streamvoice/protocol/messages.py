"""Message unions (discriminated on ``type``), the type registries and the outbound lanes."""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated

from pydantic import Field, TypeAdapter

from streamvoice.protocol.messages_client import (
    PROTOCOL_VERSION,
    Audio,
    AudioEnd,
    Bye,
    Cancel,
    ClientFlow,
    Configure,
    Hello,
    Ping,
    Text,
)
from streamvoice.protocol.messages_server import (
    ErrorMessage,
    ErrorRef,
    Final,
    Partial,
    Pong,
    Ready,
    ServerFlow,
    Speech,
    TtsAudio,
    TtsDone,
    TtsText,
    TtsWord,
    TurnResumed,
    Word,
)

ClientMessage = Hello | Audio | AudioEnd | Text | Cancel | ClientFlow | Configure | Ping | Bye
ServerMessage = (
    Ready | Speech | Partial | Final | TurnResumed | TtsAudio | TtsText | TtsDone | ServerFlow | ErrorMessage | Pong
    | Bye
)
AnyMessage = ClientMessage | ServerMessage

CLIENT_ADAPTER: TypeAdapter[ClientMessage] = TypeAdapter(
    Annotated[ClientMessage, Field(discriminator="type")]  # type: ignore[arg-type]
)
SERVER_ADAPTER: TypeAdapter[ServerMessage] = TypeAdapter(
    Annotated[ServerMessage, Field(discriminator="type")]  # type: ignore[arg-type]
)

#: Wire ``type`` -> model, for each direction.
CLIENT_TYPES: dict[str, type[ClientMessage]] = {
    cls.model_fields["type"].default: cls
    for cls in (Hello, Audio, AudioEnd, Text, Cancel, ClientFlow, Configure, Ping, Bye)
}
SERVER_TYPES: dict[str, type[ServerMessage]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        Ready, Speech, Partial, Final, TurnResumed, TtsAudio, TtsText, TtsDone, ServerFlow, ErrorMessage, Pong, Bye
    )
}


class Lane(IntEnum):
    """Outbound queues; a lower value is always sent first. Order is kept within a lane only."""

    CONTROL = 0
    TRANSCRIPT = 1
    AUDIO = 2


_LANES: dict[str, Lane] = {
    "ready": Lane.CONTROL,
    "error": Lane.CONTROL,
    "pong": Lane.CONTROL,
    "flow": Lane.CONTROL,
    "bye": Lane.CONTROL,
    "speech": Lane.TRANSCRIPT,
    "partial": Lane.TRANSCRIPT,
    "final": Lane.TRANSCRIPT,
    "turn_resumed": Lane.TRANSCRIPT,
    "tts_audio": Lane.AUDIO,
    "tts_text": Lane.AUDIO,
    "tts_done": Lane.AUDIO,
}


def lane_for(message: ServerMessage) -> Lane:
    """The outbound lane a server message travels in."""
    return _LANES[message.type]


__all__ = [
    "CLIENT_ADAPTER",
    "CLIENT_TYPES",
    "PROTOCOL_VERSION",
    "SERVER_ADAPTER",
    "SERVER_TYPES",
    "AnyMessage",
    "Audio",
    "AudioEnd",
    "Bye",
    "Cancel",
    "ClientFlow",
    "ClientMessage",
    "Configure",
    "ErrorMessage",
    "ErrorRef",
    "Final",
    "Hello",
    "Lane",
    "Partial",
    "Ping",
    "Pong",
    "Ready",
    "ServerFlow",
    "ServerMessage",
    "Speech",
    "Text",
    "TtsAudio",
    "TtsDone",
    "TtsText",
    "TtsWord",
    "TurnResumed",
    "Word",
    "lane_for",
]
