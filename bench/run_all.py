"""`make bench` / `make bench-quick` / `make bench-smoke`: run every benchmark, then summarise and plot.

Each benchmark is a module with ``main(argv) -> int`` that prints its own table and writes
``<name>.json`` into its mode's folder: ``bench/results/`` (full), ``bench/results/quick/`` or
``bench/results/smoke/`` (see ``bench.common.results_dir``). This runner only sequences them (one at
a time: the machines are small and shared, so benchmarks never overlap) and builds ``SUMMARY.md``
and PNG plots in that same folder, so a quick or smoke run never touches the full run's files.
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

from bench.common import machine_info, results_dir

# (module, arguments for --quick (None: full run only), arguments for the full run). The smoke pass
# (CI) runs every module with --smoke: one short input each, so a broken benchmark fails the build.
BENCHMARKS: tuple[tuple[str, list[str] | None, list[str]], ...] = (
    ("bench.asr_wer", ["--quick"], []),
    ("bench.asr_latency", ["--quick"], []),
    ("bench.asr_capacity", ["--quick"], []),
    ("bench.asr_batching", ["--quick"], []),
    ("bench.asr_cost", ["--quick"], []),
    ("bench.asr_busy", ["--quick"], []),
    # before any TTS module: MLX must be first imported by a loader that preloads OpenBLAS (Linux)
    ("bench.asr_backends", ["--quick"], []),
    ("bench.tts_engines", ["--quick"], []),
    ("bench.tts_ttfa", ["--quick"], []),
    ("bench.tts_roundtrip", ["--quick"], []),
    ("bench.voice_loop", ["--quick"], []),
    ("bench.server_overhead", ["--quick"], []),
    ("bench.reliability", ["--quick"], []),
    ("bench.tts_graph", None, []),
)
SMOKE_ARGS = ["--smoke"]


def _run(module_name: str, argv: list[str]) -> tuple[str, float]:
    started = time.monotonic()
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return "missing", 0.0
        traceback.print_exc()  # a dependency it needs is missing: the others still run
        return "error", time.monotonic() - started
    try:
        rc = module.main(argv)
    except SystemExit as exc:  # argparse rejected the arguments (e.g. a module without --smoke)
        return f"exit {exc.code}", time.monotonic() - started
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


def _plot(results: list[dict[str, Any]], folder: Path) -> list[Path]:
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
        path = folder / f"{result['name']}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


_MODE_NOTE = {
    "full": "full run: the reference figures that README's Performance table quotes",
    "quick": "quick run: small inputs, a first look; the reference figures are the full run's in bench/results/",
    "smoke": "smoke run: one short input per benchmark to prove each still runs; the figures mean nothing",
}


def _summary(results: list[dict[str, Any]], statuses: dict[str, tuple[str, float]], mode: str,
             command: str) -> str:
    machine = machine_info()
    lines = [
        f"# Benchmark summary: {mode} run",
        "",
        f"Mode: **{mode}** ({_MODE_NOTE[mode]}).",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"Python {machine['python']}, commit {machine['commit']}, {machine['date']}.",
        f"Run: `{command}`",
        "",
        "| benchmark | status | seconds |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {status} | {secs:.0f} |" for name, (status, secs) in statuses.items()]
    for result in results:
        flat: dict[str, Any] = {}
        _flatten("", result.get("figures", {}), flat)
        command_line = f"Command: `{result.get('command', '')}` ({result.get('mode', mode)} run)"
        lines += ["", f"## {result['name']}", "", command_line, ""]
        settings = result.get("settings") or {}
        if settings:
            lines += ["Settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()), ""]
        lines += ["| figure | value |", "|---|---|"]
        for key, value in flat.items():
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            lines.append(f"| {key} | {shown} |")
    return "\n".join(lines) + "\n"


def _snapshot(folder: Path) -> dict[Path, tuple[int, int]]:
    """Every file under bench/results/ outside ``folder``: what a quick or smoke run must leave alone."""
    root = results_dir("full")
    if not root.is_dir():
        return {}
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*")
            if p.is_file() and folder not in p.parents and p.suffix != ".tmp"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--quick", action="store_true",
                      help="smaller inputs, written to bench/results/quick/")
    kind.add_argument("--smoke", action="store_true",
                      help="one short input each, written to bench/results/smoke/ (git-ignored): does each still run?")
    parser.add_argument("--only", nargs="*", help="run only these benchmarks (module names without bench.)")
    args = parser.parse_args(argv)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    folder = results_dir(mode)
    folder.mkdir(parents=True, exist_ok=True)
    before = _snapshot(folder) if mode != "full" else {}
    statuses: dict[str, tuple[str, float]] = {}
    for module_name, quick_args, full_args in BENCHMARKS:
        short = module_name.split(".", 1)[1]
        if (args.only and short not in args.only) or (mode == "quick" and quick_args is None):
            continue
        print(f"\n=== {short} ({mode}) ===", flush=True)
        bench_args = SMOKE_ARGS if mode == "smoke" else quick_args if mode == "quick" and quick_args is not None \
            else full_args
        started = time.time()
        status, secs = _run(module_name, list(bench_args))
        result_file = folder / f"{short}.json"
        if status == "ok" and (not result_file.is_file() or result_file.stat().st_mtime < started - 1):
            status = "no result"  # it ran but wrote nothing (or wrote elsewhere) for this mode
        statuses[short] = (status, secs)
    results = []
    for short in statuses:
        path = folder / f"{short}.json"
        if path.is_file() and statuses[short][0] == "ok":
            results.append(json.loads(path.read_text()))
    command = " ".join(["python -m bench.run_all", *(argv if argv is not None else sys.argv[1:])])
    (folder / "SUMMARY.md").write_text(_summary(results, statuses, mode, command))
    plots = _plot(results, folder)
    print(f"\n=== summary ({mode} run) ===")
    for short, (status, secs) in statuses.items():
        print(f"  {short:18} {status:10} {secs:7.1f} s")
    print(f"wrote {folder / 'SUMMARY.md'} and {len(plots)} plot(s)")
    # A quick or smoke run writes only in its folder; anything else that changed meanwhile is named here
    # (on a shared machine it may be someone else's run, so a quick run only warns; the CI smoke pass fails).
    after = _snapshot(folder) if mode != "full" else {}
    touched = sorted(str(p) for p in set(before) | set(after) if before.get(p) != after.get(p))
    if touched:
        print(f"{'error' if mode == 'smoke' else 'warning'}: changed outside {folder} during this {mode} run: "
              + ", ".join(touched), file=sys.stderr)
    # A smoke pass exists to catch a benchmark that no longer runs: there, a missing module fails too.
    passing = ("ok",) if mode == "smoke" else ("ok", "missing")
    ok = all(s in passing for s, _ in statuses.values()) and not (touched and mode == "smoke")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
