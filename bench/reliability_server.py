"""The server under test as a child process (``streamvoice serve``): its port, RSS, log and exit.

A child process, so that its memory is measured alone, a crash shows as an exit and SIGTERM is the
real signal handler's. Settings go through the ``STREAMVOICE_*`` environment, as an operator would
set them; the log goes to a file (a pipe nobody reads would block the server).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class ServerProcess:
    def __init__(self, *, asr_model: str, server: dict[str, object], tts: bool = True) -> None:
        env = dict(os.environ)
        env.update({f"STREAMVOICE_SERVER__{k.upper()}": str(v) for k, v in server.items()})
        env["STREAMVOICE_LOG_LEVEL"] = "WARNING"
        self.log_path = Path(tempfile.mkstemp(prefix="streamvoice-reliability-", suffix=".log")[1])
        self._log = self.log_path.open("w")
        args = [sys.executable, "-m", "streamvoice", "serve", "--port", "0", "--asr-model", asr_model]
        if not tts:
            args.append("--no-tts")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.port = 0

    async def ready(self, timeout: float = 180.0) -> int:
        """Wait for ``listening on http://HOST:PORT`` (printed once the models are warm)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log()[-2000:]}")
            for line in self.log().splitlines():
                if "listening on http://" in line:
                    self.port = int(line.rsplit(":", 1)[1])
                    return self.port
            await asyncio.sleep(0.2)
        raise TimeoutError("server did not start")

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/stream"

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def crashes(self) -> int:
        """Tracebacks of sessions that crashed, failed tasks, or the process itself."""
        text = self.log()
        return text.count("crashed") + text.count("Traceback") + (1 if self.proc.poll() not in (None, 0) else 0)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode
