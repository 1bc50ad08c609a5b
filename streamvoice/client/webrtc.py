"""A client session as a WebRTC call (PROTOCOL.md §13): the same events and controls as the WebSocket.

    async with connect("http://127.0.0.1:8765") as call:
        await call.send_audio(pcm_16k)        # queued, sent on the microphone track at real time
        turn = await call.say("Hello there.")
        async for event in call:              # Final, TtsText (words in track time), TtsDone, ...
            ...
        async for frame in call.audio.frames():  # the server's speech track, 20 ms TrackFrames
            ...

Why a second client: a browser or phone in a call gets echo cancellation, jitter buffering and
NAT traversal from WebRTC; this client lets Python programs, tests and benchmarks make the same
call. Speech comes back on the track (not as ``tts_audio``), paced by the server, so there are no
credits or ``flow`` reports to send; ``tts_text`` says which words the track is playing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from aiortc import RTCIceServer
from aiortc.mediastreams import MediaStreamTrack

from streamvoice.client.controls import Opening, ServerClosed, SessionControls
from streamvoice.client.rtc_audio import MicTrack, RemoteAudio
from streamvoice.client.rtc_peer import RtcPeer, offer_url, post_json
from streamvoice.protocol import (
    AsrOptions,
    AudioEnd,
    Bye,
    ClientMessage,
    ErrorMessage,
    Hello,
    Ready,
    ServerMessage,
    TtsOptions,
)
from streamvoice.protocol.codec import to_wire

__all__ = ["OfferRefused", "RtcSession", "connect"]


class OfferRefused(ServerClosed):
    """The server answered the offer with an error (PROTOCOL §13.1): HTTP ``status`` and ``code``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(None, f"{status} {code}: {message}")
        self.status = status
        self.error_code = code


class RtcSession(SessionControls):
    """Created by :func:`connect`; iterate it for server events, read ``audio`` for the speech track.

    ``timings`` (seconds): ``offer_s`` making the offer (ICE gathering included), ``answer_s`` the
    POST until the answer, ``setup_s`` the POST until the data channel opened, ``ready_s`` the POST
    until ``ready``.
    """

    def __init__(self, peer: RtcPeer, ready: Ready, timings: dict[str, float]) -> None:
        self.peer = peer
        self.ready = ready
        self.timings = timings

    @property
    def session_id(self) -> str:
        return self.ready.session

    @property
    def audio(self) -> RemoteAudio:
        """The server's speech track: ``async for frame in session.audio.frames()``, or ``listeners``."""
        return self.peer.audio

    @property
    def mic(self) -> MediaStreamTrack:
        return self.peer.mic

    async def _send(self, message: ClientMessage) -> None:
        try:
            self.peer.send(message)
        except ConnectionError as exc:
            raise ServerClosed(None, str(exc)) from None

    async def send_audio(self, audio: bytes | np.ndarray, sample_rate: int = 16_000) -> None:
        """Queue microphone audio (pcm_s16le bytes, int16 or float samples; mono, 16 kHz by default).

        It leaves on the track at real time; feed it as it is captured, or all at once (a file).
        """
        mic = self.peer.mic
        if not isinstance(mic, MicTrack):
            raise TypeError("send_audio feeds the built-in microphone track; this call was given its own mic")
        mic.feed(audio, sample_rate)

    async def end_audio(self) -> None:
        """End the utterance once what was fed has gone out on the track (push-to-talk release)."""
        if isinstance(self.peer.mic, MicTrack):
            self.peer.mic.flush()
            await self.peer.mic.drained()
        await self._send(AudioEnd())

    async def recv(self, timeout: float | None = None) -> ServerMessage:
        async with asyncio.timeout(timeout):
            message = await self.peer.messages.get()
        if message is None:
            self.peer.messages.put_nowait(None)  # every later recv ends too
            raise ServerClosed(None, self.peer.ended)
        return message

    async def close(self, reason: str = "") -> None:
        """``bye`` on the channel, then hang up (the server ends the session like a closed socket)."""
        if not self.peer.ended:
            try:
                self.peer.send(Bye(reason=reason))
                await self.peer.flush()
            except ConnectionError:
                pass
        await self.peer.close()


async def _open(url: str, options: dict[str, Any]) -> RtcSession:
    target = offer_url(url)
    timeout: float = options["open_timeout"]
    token, in_header = options["token"], options["token_in_header"]
    hello = Hello(token=None if in_header else token, asr=options["asr"] or AsrOptions(),
                  tts=options["tts"] or TtsOptions())
    headers = {"Authorization": f"Bearer {token}"} if token and in_header else None
    peer = RtcPeer(options["mic"], ice_servers=options["ice_servers"],
                   max_buffered_frames=options["max_buffered_frames"])
    try:
        started = time.monotonic()
        body = {"type": "offer", "sdp": await peer.offer(), "hello": to_wire(hello)}
        posted = time.monotonic()
        status, answer = await post_json(target, body, headers, timeout)
        answered = time.monotonic()
        if status != 200:
            error: dict[str, Any] = answer["error"] if isinstance(answer.get("error"), dict) else {}
            raise OfferRefused(status, str(error.get("code", "")), str(error.get("message", answer)))
        await peer.accept(answer["sdp"])
        async with asyncio.timeout(timeout):
            await peer.opened.wait()
            opened = time.monotonic()
            first = await peer.messages.get()
        if isinstance(first, ErrorMessage):
            raise ServerClosed(None, f"{first.code}: {first.message}")
        if not isinstance(first, Ready):
            raise ServerClosed(None, f"expected ready, got {first.type if first else peer.ended}")
        timings = {"offer_s": posted - started, "answer_s": answered - posted, "setup_s": opened - posted,
                   "ready_s": time.monotonic() - posted}
        return RtcSession(peer, first, timings)
    except BaseException:
        await peer.close()
        raise


def connect(
    url: str,
    *,
    token: str | None = None,
    token_in_header: bool = False,
    asr: AsrOptions | None = None,
    tts: TtsOptions | None = None,
    mic: MediaStreamTrack | None = None,
    ice_servers: Sequence[str | RTCIceServer] = (),
    max_buffered_frames: int = 500,
    open_timeout: float = 10.0,
) -> Opening[RtcSession]:
    """Make a call: ``async with connect(url) as call`` or ``call = await connect(url)``.

    ``url``: the server's ``http(s)://host:port`` (or its ``ws(s)://`` stream URL). ``mic``: a track
    of your own instead of the built-in :class:`~streamvoice.client.rtc_audio.MicTrack` fed by
    ``send_audio``. ``ice_servers``: STUN/TURN URLs (or ``RTCIceServer`` s with credentials) for
    calls across NATs; none gives host candidates only. ``max_buffered_frames``: how far an
    ``audio.frames()`` reader may fall behind before its oldest frames are dropped. The hello's
    audio formats are not sent: the tracks fix them (§13.2). Raises :class:`OfferRefused` when the
    server refuses the offer, ``TimeoutError`` when the channel does not open in ``open_timeout``.
    """
    options = dict(token=token, token_in_header=token_in_header, asr=asr, tts=tts, mic=mic, ice_servers=ice_servers,
                   max_buffered_frames=max_buffered_frames, open_timeout=open_timeout)
    return Opening(lambda: _open(url, options))
