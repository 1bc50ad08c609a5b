"""streamvoice: real-time voice over WebSockets (streaming Whisper in, Kokoro out)."""

__version__ = "0.1.0"
