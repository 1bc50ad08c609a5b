"""Shared helpers for benchmarks: machine description, percentiles, result files, tables."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MODES = ("full", "quick", "smoke")
# Full runs are the reference figures (committed, quoted by README); quick and smoke runs get their own
# folders so that trying a benchmark never overwrites them. bench/results/smoke/ is git-ignored.
_MODE_SUBDIR = {"full": "", "quick": "quick", "smoke": "smoke"}
def _speech_dir() -> Path:
    """The development speech: $STREAMVOICE_SPEECH_DIR, else ``shared/`` beside the checkout (a clone
    elsewhere, such as CI's, falls back to the workplace's ``/work/shared``)."""
    configured = os.environ.get("STREAMVOICE_SPEECH_DIR")
    if configured:
        return Path(configured)
    beside = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "speech"
    workplace = Path("/work/shared/data/speech")
    return beside if beside.is_dir() or not workplace.is_dir() else workplace


SPEECH_DIR = _speech_dir()


def machine_info() -> dict[str, Any]:
    """What the figures were measured on: they mean nothing without it."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory_gib = 0.0
    try:
        with open("/proc/meminfo") as handle:
            memory_gib = int(handle.readline().split()[1]) / (1024 * 1024)
    except (OSError, ValueError, IndexError):
        pass
    commit = ""
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                timeout=5, cwd=Path(__file__).parent).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_gib, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else None


def summary_stats(values: Sequence[float]) -> dict[str, float | int | None]:
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "p99": percentile(values, 99), "mean": float(np.mean(values)) if len(values) else None}


def run_mode(argv: Sequence[str] | None = None) -> str:
    """"smoke", "quick" or "full", from a benchmark's command line (``sys.argv[1:]`` when None).

    Abbreviations that argparse accepts (``--qu``) count too, so a figure never lands in the
    wrong folder because its flag was shortened.
    """
    args = list(sys.argv[1:] if argv is None else argv)

    def given(flag: str) -> bool:
        return any(len(a) > 2 and flag.startswith(a) for a in args)

    return "smoke" if given("--smoke") else "quick" if given("--quick") else "full"


def results_dir(mode: str) -> Path:
    """Where one mode's results go: bench/results/ (full), bench/results/quick/, bench/results/smoke/."""
    if mode not in _MODE_SUBDIR:
        raise ValueError(f"unknown benchmark mode {mode!r} (one of {', '.join(MODES)})")
    sub = _MODE_SUBDIR[mode]
    return RESULTS_DIR / sub if sub else RESULTS_DIR


def write_result(name: str, figures: dict[str, Any], *, settings: dict[str, Any], argv: Sequence[str] | None = None,
                 samples: dict[str, list[float]] | None = None, mode: str | None = None,
                 module: str | None = None) -> Path:
    """<results_dir(mode)>/<name>.json with mode, figures, settings, machine and the command that made them.

    The mode comes from ``argv`` (``--quick``, ``--smoke``) unless given, so a quick run can never
    overwrite the full run's reference figures. The file is replaced atomically: a reader (the
    README table, another engineer's script) never sees half of it.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    mode = mode or run_mode(args)
    folder = results_dir(mode)
    folder.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python", "-m", f"bench.{module or name}", *args])  # module: when one writes several
    payload = {"name": name, "mode": mode, "command": command, "machine": machine_info(), "settings": settings,
               "figures": figures, "samples": samples or {}}
    path = folder / f"{name}.json"
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(payload, indent=2, default=float))
    partial.replace(path)
    return path


def print_table(title: str, rows: Iterable[Sequence[Any]], header: Sequence[str]) -> None:
    rows = [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h)) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """``fn()``'s result, its wall seconds and this process's CPU seconds (all threads)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu
