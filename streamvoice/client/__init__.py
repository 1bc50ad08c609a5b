"""Python client for a streamvoice server.

    async with connect("ws://127.0.0.1:8765/v1/stream") as session:
        await session.send_audio(pcm_bytes_or_float32)
        await session.end_audio()
        turn = await session.say("Hello there.")
        async for event in session:   # typed protocol messages: Partial, Final, TtsAudio, ...
            ...

The same session as a WebRTC call (PROTOCOL.md §13; imports aiortc, so not imported here):
``streamvoice.client.webrtc.connect("http://127.0.0.1:8765")``, with the same events and
``say``/``say_stream``/``cancel`` (:mod:`streamvoice.client.controls`), speech on its audio track.
"""

from streamvoice.client.session import ClientSession, ServerClosed, connect

__all__ = ["ClientSession", "ServerClosed", "connect"]
