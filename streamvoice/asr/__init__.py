"""Streaming speech recognition: VAD, Whisper backends, the streaming chunker and its events."""
