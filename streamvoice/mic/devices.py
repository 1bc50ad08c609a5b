"""Finding the sound devices: one clear error when PortAudio or a device is missing."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class AudioDeviceError(RuntimeError):
    """No usable sound device; the message names the problem and the fix."""


def _load() -> ModuleType:
    try:
        return importlib.import_module("sounddevice")
    except ImportError as exc:
        raise AudioDeviceError(
            "the Python package sounddevice is not installed: pip install 'streamvoice[mic]'"
        ) from exc
    except OSError as exc:  # sounddevice raises OSError when the PortAudio library is missing
        raise AudioDeviceError(
            f"PortAudio is not available ({exc}): install it (Debian: apt-get install libportaudio2)"
        ) from exc


def _default_device(sd: ModuleType, kind: str) -> dict[str, Any]:
    what = "input (microphone)" if kind == "input" else "output (speaker)"
    try:
        info = sd.query_devices(kind=kind)
    except (sd.PortAudioError, ValueError) as exc:
        raise AudioDeviceError(
            f"no audio {what} device found ({exc}): connect one or make it the system default"
        ) from exc
    channels = info.get(f"max_{kind}_channels", 0) if isinstance(info, dict) else 0
    if not channels:
        raise AudioDeviceError(f"the default {what} device has no {kind} channels: choose another default device")
    return dict(info)


def open_sounddevice(*, need_output: bool) -> ModuleType:
    """Import sounddevice and check there is a default input (and output, when needed)."""
    sd = _load()
    _default_device(sd, "input")
    if need_output:
        _default_device(sd, "output")
    return sd
