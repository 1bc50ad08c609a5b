"""Offer in, answer out (PROTOCOL §13.1): the call is made and READY before the answer leaves.

Non-trickle ICE: aiortc gathers every candidate while setting the local description, so the answer
carries them all. The order of checks is the order of costs: the JSON and the SDP text
(:mod:`.offer`), then the hello through the session core (token, versions, options), then aiortc
parses the offer and gathers. Whatever fails is answered with its HTTP status and
``{"error": {"code", "message"}}`` and leaves nothing behind (the peer connection is closed).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

from streamvoice.config import Config, WebrtcConfig
from streamvoice.engine.engine import SpeechEngine
from streamvoice.protocol.errors import ErrorCode
from streamvoice.protocol.session_core import ServerPolicy
from streamvoice.runtime.observe import Observer
from streamvoice.webrtc.call import RtcCall
from streamvoice.webrtc.offer import OfferError, parse_offer, webrtc_hello

log = logging.getLogger(__name__)

GATHER_S = 8.0  # ICE gathering (STUN/TURN round trips) must end within this; the HTTP request waits for it


@dataclass(slots=True)
class Answer:
    """The HTTP answer to an offer; ``call`` is set (and must be run) when ``status`` is 200."""

    status: int
    body: dict[str, Any]
    call: RtcCall | None = None


def ice_configuration(cfg: WebrtcConfig) -> RTCConfiguration:
    """The configured STUN/TURN servers; none means host candidates only (aiortc's public default is not used)."""
    servers = [
        RTCIceServer(urls=url, username=cfg.ice_username, credential=cfg.ice_credential)
        if url.startswith(("turn:", "turns:")) else RTCIceServer(urls=url)
        for url in cfg.ice_servers
    ]
    return RTCConfiguration(iceServers=servers)


def _refused(status: int, code: str, message: str) -> Answer:
    return Answer(status, OfferError(status, code, message).body())


async def answer_offer(
    body: bytes | None,
    *,
    session_id: str,
    engine: SpeechEngine,
    config: Config,
    policy: ServerPolicy,
    observer: Observer | None = None,
) -> Answer:
    """Check the offer, open the session, answer; see the module docstring."""
    try:
        offer = parse_offer(body)
    except OfferError as exc:
        return Answer(exc.status, exc.body())
    call = RtcCall(session_id, engine, config, policy, observer=observer)
    error = call.open(webrtc_hello(offer.hello))
    if error is not None:
        status = 401 if error.code == ErrorCode.UNAUTHORIZED.value else 400
        return _refused(status, error.code, error.message)
    pc = RTCPeerConnection(ice_configuration(config.webrtc))
    call.attach(pc)
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
        call.pc_add_track()
        async with asyncio.timeout(GATHER_S):
            await pc.setLocalDescription(await pc.createAnswer())
    except TimeoutError:
        await _discard(call, pc)
        return _refused(504, "ice_timeout", f"ICE gathering took longer than {GATHER_S:g} s; check webrtc.ice_servers")
    except asyncio.CancelledError:
        await asyncio.shield(_discard(call, pc))
        raise
    except Exception as exc:  # aiortc refuses SDP it cannot use with assorted exception types
        log.info("call %s: offer refused: %s", session_id, exc)
        await _discard(call, pc)
        return _refused(400, "bad_offer", f"the SDP offer cannot be used: {exc}")
    local = pc.localDescription
    return Answer(200, {"type": "answer", "sdp": local.sdp, "session": session_id}, call)


async def _discard(call: RtcCall, pc: RTCPeerConnection) -> None:
    call.session.stop()
    call.track.stop()
    try:
        async with asyncio.timeout(2.0):
            await pc.close()
    except Exception:
        log.warning("call %s: closing a refused peer connection failed", call.id, exc_info=True)
