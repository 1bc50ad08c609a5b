"""WebRTC calls (PROTOCOL.md §13): a second transport of a :class:`~streamvoice.runtime.session.Session`.

The microphone arrives on an audio track and becomes ``AudioSamples`` events; synthesized speech
leaves on a paced audio track; every other protocol v1 message travels as msgpack on the data
channel ``streamvoice``, through the same :class:`~streamvoice.protocol.session_core.SessionCore`
(validation, limits, state) as a WebSocket session. Signalling is one HTTP POST (non-trickle ICE).

- :mod:`.offer`: the signalling request, checked before any peer connection exists (pure);
- :mod:`.http_body`: lets the one port's HTTP parser read the POST body;
- :mod:`.speech_track`: the outbound track (bounded queue, 20 ms frames at real time, silence when idle);
- :mod:`.mic`: the inbound track -> 16 kHz mono samples;
- :mod:`.call`: one call: peer connection, data channel, lifecycle; the session's outbox;
- :mod:`.signalling`: offer -> answer (or the HTTP error), and a started call.
"""
