"""Microphone and speaker I/O for the `streamvoice mic` CLI (sounddevice, imported lazily)."""

from streamvoice.mic.devices import AudioDeviceError, open_sounddevice

__all__ = ["AudioDeviceError", "open_sounddevice"]
