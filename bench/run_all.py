"""`make bench` / `make bench-quick`: run every benchmark, then summarise and plot what they wrote.

Each benchmark is a module with ``main(argv) -> int`` that prints its own table and writes
``bench/results/<name>.json``. This runner only sequences them (one at a time: the machines are
small and shared, so benchmarks never overlap) and builds ``bench/results/SUMMARY.md`` and PNG plots.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR, machine_info

# (module, arguments for --quick (None: full run only), arguments for the full run)
BENCHMARKS: tuple[tuple[str, list[str] | None, list[str]], ...] = (
    ("bench.asr_wer", ["--quick"], ["--no-full-window"]),  # the 30 s window comparison runs in --quick
    ("bench.asr_latency", ["--quick"], []),
    ("bench.asr_capacity", ["--quick"], []),
    ("bench.asr_batching", ["--quick"], []),
    ("bench.tts_ttfa", ["--quick"], []),
    ("bench.tts_roundtrip", ["--quick"], []),
    ("bench.voice_loop", ["--quick"], []),
    ("bench.server_overhead", ["--quick"], []),
    ("bench.tts_graph", None, []),
)


def _run(module_name: str, argv: list[str]) -> tuple[str, float]:
    started = time.monotonic()
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return "missing", 0.0
        raise
    try:
        rc = module.main(argv)
    except Exception:  # one broken benchmark must not hide the others' figures
        traceback.print_exc()
        return "error", time.monotonic() - started
    return ("ok" if not rc else f"exit {rc}"), time.monotonic() - started


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out)
    elif isinstance(value, (int, float, str)) or value is None:
        out[prefix] = value


def _plot(results: list[dict[str, Any]]) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install 'streamvoice[bench]'): no plots", file=sys.stderr)
        return []
    written = []
    for result in results:
        samples = {k: v for k, v in (result.get("samples") or {}).items() if isinstance(v, list) and len(v) > 1}
        if not samples:
            continue
        fig, ax = plt.subplots(figsize=(7, 3.5))
        for label, values in samples.items():
            ax.hist(values, bins=30, alpha=0.55, label=f"{label} (n={len(values)})")
        ax.set_title(f"{result['name']}: latency distribution")
        ax.set_xlabel("seconds")
        ax.set_ylabel("count")
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = RESULTS_DIR / f"{result['name']}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def _summary(results: list[dict[str, Any]], statuses: dict[str, tuple[str, float]], quick: bool) -> str:
    machine = machine_info()
    lines = [
        "# Benchmark summary",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"Python {machine['python']}, commit {machine['commit']}, {machine['date']}.",
        f"Run: `python -m bench.run_all{' --quick' if quick else ''}`",
        "",
        "| benchmark | status | seconds |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {status} | {secs:.0f} |" for name, (status, secs) in statuses.items()]
    for result in results:
        flat: dict[str, Any] = {}
        _flatten("", result.get("figures", {}), flat)
        lines += ["", f"## {result['name']}", "", f"Command: `{result.get('command', '')}`", ""]
        settings = result.get("settings") or {}
        if settings:
            lines += ["Settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()), ""]
        lines += ["| figure | value |", "|---|---|"]
        for key, value in flat.items():
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            lines.append(f"| {key} | {shown} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small inputs: the whole run in under 5 minutes")
    parser.add_argument("--only", nargs="*", help="run only these benchmarks (module names without bench.)")
    args = parser.parse_args(argv)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    statuses: dict[str, tuple[str, float]] = {}
    for module_name, quick_args, full_args in BENCHMARKS:
        short = module_name.split(".", 1)[1]
        if (args.only and short not in args.only) or (args.quick and quick_args is None):
            continue
        print(f"\n=== {short} ===", flush=True)
        statuses[short] = _run(module_name, quick_args if args.quick and quick_args is not None else full_args)
    results = []
    for short in statuses:
        path = RESULTS_DIR / f"{short}.json"
        if path.is_file() and statuses[short][0] == "ok":
            results.append(json.loads(path.read_text()))
    (RESULTS_DIR / "SUMMARY.md").write_text(_summary(results, statuses, args.quick))
    plots = _plot(results)
    print("\n=== summary ===")
    for short, (status, secs) in statuses.items():
        print(f"  {short:18} {status:10} {secs:7.1f} s")
    print(f"wrote {RESULTS_DIR / 'SUMMARY.md'} and {len(plots)} plot(s)")
    return 0 if all(s == "ok" or s == "missing" for s, _ in statuses.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
