"""A process that ran MLX models in the engine's worker threads exits cleanly.

MLX requires ``mx.clear_streams()`` in every thread that used it before that thread ends: without
it, Whisper decoded in a worker thread and the interpreter then aborted at exit (status 134,
"terminate called without an active exception"), which would fail any server run or CLI call.
The engine's workers call the backends' ``release_thread`` as they end. Run in a subprocess,
since the failure kills the process.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.models,
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("mlx") is None, reason="needs the mlx extra"),
]

SCRIPT = """
import asyncio, sys
from pathlib import Path
from streamvoice.asr.backend import DecodeRequest
from streamvoice.asr.loader import load_asr_backend
from streamvoice.audio.wavio import read_audio
from streamvoice.config import Config
from streamvoice.engine.engine import Engine

config = Config(asr={"backend": "mlx"}, models={"dir": sys.argv[1]})
backend = load_asr_backend(config, "whisper-tiny.en")
audio, _ = read_audio(Path(sys.argv[2]))
request = DecodeRequest(audio=audio, offset_s=0.0, prompt="", language="en", task="transcribe",
                        word_timestamps=True, kind="final")

async def main() -> None:
    engine = Engine({"whisper-tiny.en": backend})
    await engine.start()
    result = await engine.asr(request)
    print(result.segments[0].text.strip())
    engine.close()

asyncio.run(main())
"""


def test_mlx_decodes_in_a_worker_thread_and_the_process_exits_cleanly(models_dir: Path, data_dir: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(models_dir), str(data_dir / "LJ001-0002.wav")],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "comparatively modern" in done.stdout.lower()
