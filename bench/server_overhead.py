"""Server overhead with the model-free FakeEngine: what the runtime itself costs.

N loopback clients stream 20 ms PCM frames at real time to a server in a child process.
Reports: frames/s received and per server CPU-second, p50/p99 routing delay (frame read ->
routed, measured inside the server), server memory per session, and barge-in stop time
(client sends cancel -> receives tts_done; nothing of the turn follows it).

    python -m bench.server_overhead [--quick] [--clients 100] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import print_table, summary_stats, write_result

FRAME_MS = 20


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- child: the server ------------------------------------------------------------------------------
async def _serve(stats_path: str) -> None:
    from streamvoice.config import load_config
    from streamvoice.engine.fake import FakeEngine
    from streamvoice.server.app import Server

    config = load_config({}, {"server": {"port": 0, "max_sessions": 10_000, "max_messages_per_s": 1000},
                              "log_level": "WARNING"})
    server = Server(config, FakeEngine(word_s=0.4))
    delays: list[float] = []

    def record(s: float) -> None:
        if len(delays) < 2_000_000:
            delays.append(s)

    server.metrics.routing_delay = record  # type: ignore[method-assign]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await server.start()
    print(server.port, flush=True)
    await stop.wait()
    Path(stats_path).write_text(json.dumps({"routing": summary_stats(delays)}))
    await server.stop(5.0)


# -- parent: the clients ------------------------------------------------------------------------------
async def _client(url: str, seconds: float, t_start: float, results: dict[str, list[float]]) -> None:
    from streamvoice.client import connect
    from streamvoice.protocol import TtsAudio, TtsDone

    rng = np.random.default_rng()
    frame = (rng.standard_normal(16000 * FRAME_MS // 1000) * 300).astype("<i2").tobytes()
    async with connect(url) as s:
        loop = asyncio.get_running_loop()

        async def reader() -> None:
            cancel_at: float | None = None
            async for m in s:
                if isinstance(m, TtsAudio) and cancel_at is None:
                    cancel_at = loop.time()
                    await s.cancel(m.turn)
                elif isinstance(m, TtsDone) and cancel_at is not None:
                    results["barge_in_s"].append(loop.time() - cancel_at)
                    cancel_at = None

        task = asyncio.create_task(reader())
        n = int(seconds * 1000 / FRAME_MS)
        await asyncio.sleep(max(0.0, t_start - loop.time()) + rng.uniform(0, FRAME_MS / 1000))
        t0 = loop.time()
        for i in range(n):
            await s.send_audio(frame)
            if i % 100 == 50:
                await s.say("This sentence will be cut off by a barge-in before it ends, surely.")
            await asyncio.sleep(max(0.0, t0 + (i + 1) * FRAME_MS / 1000 - loop.time()))
        results["frames"].append(n)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _run_clients(port: int, clients: int, seconds: float, pid: int) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{port}/v1/stream"
    results: dict[str, list[float]] = {"frames": [], "barge_in_s": []}
    rss0 = _proc_rss_mb(pid)
    loop = asyncio.get_running_loop()
    t_start = loop.time() + 1.0 + clients * 0.01
    tasks = [asyncio.create_task(_client(url, seconds, t_start, results)) for _ in range(clients)]
    await asyncio.sleep(max(0.0, t_start - loop.time()) + 0.5)
    cpu0, wall0 = _proc_cpu_s(pid), time.monotonic()
    rss_peak = _proc_rss_mb(pid)
    await asyncio.sleep(seconds * 0.5)
    rss_peak = max(rss_peak, _proc_rss_mb(pid))
    await asyncio.gather(*tasks)
    cpu1, wall1 = _proc_cpu_s(pid), time.monotonic()
    frames = sum(results["frames"])
    return {
        "clients": clients,
        "frames": frames,
        "frames_per_s": frames / seconds,
        "server_cpu_s": cpu1 - cpu0,
        "server_cpu_share": (cpu1 - cpu0) / (wall1 - wall0),
        "frames_per_cpu_s": frames / max(1e-9, cpu1 - cpu0),
        "rss_mb_idle": rss0,
        "rss_mb_per_session": (rss_peak - rss0) / clients,
        "barge_in_s": summary_stats(results["barge_in_s"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20 clients for 5 s")
    parser.add_argument("--smoke", action="store_true", help="5 clients for 3 s (CI: does it still run?)")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--serve", metavar="STATS_JSON", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(_serve(args.serve))
        return 0
    clients, seconds = (5, 3.0) if args.smoke else (20, 5.0) if args.quick else (args.clients, args.seconds)
    handle, stats_file = tempfile.mkstemp(suffix=".json")
    os.close(handle)
    proc = subprocess.Popen([sys.executable, "-m", "bench.server_overhead", "--serve", stats_file],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        figures = asyncio.run(_run_clients(port, clients, seconds, proc.pid))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    routing = json.loads(Path(stats_file).read_text())["routing"]
    os.unlink(stats_file)
    figures["routing_s"] = routing
    write_result("server_overhead", figures, settings={"clients": clients, "seconds": seconds,
                                                         "frame_ms": FRAME_MS, "engine": "FakeEngine"}, argv=argv)
    b = figures["barge_in_s"]
    print_table("server overhead (FakeEngine, loopback)", [
        ["clients", clients],
        ["frames/s (all clients)", figures["frames_per_s"]],
        ["server CPU share (cores)", figures["server_cpu_share"]],
        ["frames per server CPU-second", figures["frames_per_cpu_s"]],
        ["routing delay p50 (us)", (routing["p50"] or 0) * 1e6],
        ["routing delay p99 (us)", (routing["p99"] or 0) * 1e6],
        ["memory per session (MiB)", figures["rss_mb_per_session"]],
        ["barge-in cancel->tts_done p50 (ms)", (b["p50"] or 0) * 1e3],
        ["barge-in cancel->tts_done p95 (ms)", (b["p95"] or 0) * 1e3],
    ], ["figure", "value"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
