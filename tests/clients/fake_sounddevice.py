"""A stand-in for the sounddevice module: devices as configured, streams driven by threads.

`build(devices=..., clip=...)` returns a module object to put in sys.modules["sounddevice"].
RawInputStream feeds `clip` (16-bit mono PCM at the stream's rate) in real time in blocks of
`blocksize`, then silence; RawOutputStream pulls from the callback every 20 ms and keeps
everything it was given in `played` (bytes), like a speaker that records.
"""

from __future__ import annotations

import threading
import time
import types
from typing import Any


class PortAudioError(Exception):
    pass


class _Stream:
    def __init__(self, samplerate: int, channels: int, dtype: str, callback: Any, blocksize: int = 0, **_: Any) -> None:
        assert channels == 1 and dtype == "int16"
        self.samplerate = samplerate
        self.blocksize = blocksize or samplerate // 50
        self.callback = callback
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def close(self) -> None:
        self._stop.set()

    def _tick(self, index: int) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        period = self.blocksize / self.samplerate
        t0 = time.monotonic()
        index = 0
        while not self._stop.is_set():
            self._tick(index)
            index += 1
            delay = t0 + index * period - time.monotonic()
            if delay > 0:
                time.sleep(delay)


def build(*, devices: bool = True, output: bool = True, clip: bytes = b"") -> types.ModuleType:
    module = types.ModuleType("sounddevice")
    module.PortAudioError = PortAudioError  # type: ignore[attr-defined]
    module.played = bytearray()  # type: ignore[attr-defined]
    module.fed_bytes = 0  # type: ignore[attr-defined]

    def query_devices(kind: str | None = None) -> dict[str, Any]:
        if not devices or (kind == "output" and not output):
            raise PortAudioError("Error querying device -1")
        return {"name": "stand-in", "max_input_channels": 1, "max_output_channels": 1, "default_samplerate": 48000.0}

    class RawInputStream(_Stream):
        def _tick(self, index: int) -> None:
            size = self.blocksize * 2
            block = clip[index * size : (index + 1) * size]
            block = block + b"\x00" * (size - len(block))
            module.fed_bytes += size  # type: ignore[attr-defined]
            self.callback(block, self.blocksize, None, None)

    class RawOutputStream(_Stream):
        def _tick(self, index: int) -> None:
            out = bytearray(self.blocksize * 2)
            self.callback(out, self.blocksize, None, None)
            module.played += out  # type: ignore[attr-defined]

    module.query_devices = query_devices  # type: ignore[attr-defined]
    module.RawInputStream = RawInputStream  # type: ignore[attr-defined]
    module.RawOutputStream = RawOutputStream  # type: ignore[attr-defined]
    return module
