"""The signalling request of PROTOCOL §13.1, checked before a peer connection is made (sans-I/O).

``POST /v1/webrtc/offer`` carries JSON ``{"type": "offer", "sdp": ..., "hello": {...}}``. What can
be refused from the text alone is refused here with a 4xx and a code, so aiortc only ever sees an
offer that has the one ``sendrecv`` audio section and the data channel section a call needs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_OFFER_BYTES = 64 * 1024  # an SDP offer is a few KiB; a larger body is refused unread (413)
TRACK_RATE = 48_000  # the outbound track's clock (Opus), Hz
ASR_RATE = 16_000  # what the inbound track is resampled to


class OfferError(Exception):
    """A refused offer: HTTP ``status`` with body ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


@dataclass(frozen=True, slots=True)
class Offer:
    sdp: str
    hello: dict[str, Any] = field(default_factory=dict)


def parse_offer(body: bytes | None) -> Offer:
    """The request body as an :class:`Offer`, or :class:`OfferError` (400/413) saying what is wrong."""
    if body is None or not body.strip():
        raise OfferError(400, "bad_offer", 'the body must be JSON {"type": "offer", "sdp": "...", "hello": {...}}')
    if len(body) > MAX_OFFER_BYTES:
        raise OfferError(413, "bad_offer", f"the offer is larger than {MAX_OFFER_BYTES} bytes")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OfferError(400, "bad_offer", f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise OfferError(400, "bad_offer", "the body must be a JSON object")
    if data.get("type") != "offer":
        raise OfferError(400, "bad_offer", 'type must be "offer"')
    sdp = data.get("sdp")
    if not isinstance(sdp, str) or not sdp.strip():
        raise OfferError(400, "bad_offer", "sdp must be the offer's SDP text")
    hello = data.get("hello")
    if hello is None:
        hello = {}
    if not isinstance(hello, dict):
        raise OfferError(400, "invalid_field", "hello must be an object with the fields of a hello message")
    check_sdp(sdp)
    return Offer(sdp, hello)


def check_sdp(sdp: str) -> None:
    """One audio section the server may send on and receive from, and a data channel section."""
    sections = _media_sections(sdp)
    if not sections:
        raise OfferError(400, "bad_offer", "the SDP has no media sections (m= lines)")
    audio = [s for s in sections if s[0].startswith("audio ")]
    if not audio:
        raise OfferError(400, "no_audio", "the offer has no audio transceiver; add one with direction sendrecv")
    if len(audio) > 1:
        raise OfferError(400, "bad_offer", "the offer has more than one audio transceiver; a call has one")
    direction = next((a for a in audio[0][1] if a in ("sendrecv", "sendonly", "recvonly", "inactive")), "sendrecv")
    if direction != "sendrecv":
        raise OfferError(400, "no_audio", f"the audio transceiver is {direction}; it must be sendrecv")
    if not any(s[0].startswith("application ") and "webrtc-datachannel" in s[0] for s in sections):
        raise OfferError(400, "no_data_channel",
                         'the offer has no data channel; create one labelled "streamvoice" before the offer')


def _media_sections(sdp: str) -> list[tuple[str, list[str]]]:
    """``(m-line value, attribute names)`` per media section."""
    out: list[tuple[str, list[str]]] = []
    for raw in sdp.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            out.append((line[2:], []))
        elif line.startswith("a=") and out:
            out[-1][1].append(line[2:].split(":", 1)[0])
    return out


def webrtc_hello(hello: dict[str, Any]) -> dict[str, Any]:
    """The client's hello with the formats the tracks fix (§13.2): its ``audio`` and the output format ignored."""
    out = dict(hello)
    tts = hello.get("tts")
    tts = dict(tts) if isinstance(tts, dict) else ({} if tts is None else tts)
    if isinstance(tts, dict):
        tts["sample_rate"] = TRACK_RATE
        tts["encoding"] = "pcm_s16le"
    out["tts"] = tts
    out["audio"] = {"encoding": "pcm_s16le", "sample_rate": ASR_RATE, "channels": 1}
    out["type"] = "hello"
    return out
