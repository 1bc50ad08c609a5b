"""Quick and smoke runs write only to their own folders, so they never overwrite the full run's figures."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import types
from collections.abc import Sequence
from pathlib import Path

import pytest

from bench import common, run_all


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path)
    return tmp_path


@pytest.mark.parametrize(("argv", "mode", "sub"), [
    ([], "full", ""), (["--no-full-window"], "full", ""), (["--quick"], "quick", "quick"),
    (["--qu"], "quick", "quick"), (["--smoke"], "smoke", "smoke"), (["--quick", "--smoke"], "smoke", "smoke"),
])
def test_write_result_goes_to_the_folder_of_its_mode(results: Path, argv: list[str], mode: str, sub: str) -> None:
    path = common.write_result("x", {"a": 1.0}, settings={}, argv=argv)
    assert path == results / sub / "x.json" if sub else results / "x.json"
    payload = json.loads(path.read_text())
    assert payload["mode"] == mode
    assert payload["command"] == " ".join(["python -m bench.x", *argv])
    assert not list(results.rglob("*.tmp"))


def test_explicit_mode_wins_and_unknown_mode_is_refused(results: Path) -> None:
    assert common.write_result("x", {}, settings={}, argv=[], mode="smoke") == results / "smoke" / "x.json"
    with pytest.raises(ValueError):
        common.results_dir("fast")


def _fake_benchmark(monkeypatch: pytest.MonkeyPatch, name: str, *, writes: bool = True) -> None:
    def main(argv: Sequence[str] | None = None) -> int:
        if writes:
            common.write_result(name, {"v": 1.0}, settings={}, argv=argv, samples={"lat": [0.1, 0.2]})
        return 0

    module = types.ModuleType(f"bench.{name}")
    module.main = main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, f"bench.{name}", module)


@pytest.mark.parametrize("mode", ["quick", "smoke"])
def test_run_all_writes_results_summary_and_plots_only_in_its_mode_folder(
        results: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    full = results / "fake_a.json"
    full.write_text('{"reference": true}')
    (results / "SUMMARY.md").write_text("full summary")
    _fake_benchmark(monkeypatch, "fake_a")
    monkeypatch.setattr(run_all, "BENCHMARKS", (("bench.fake_a", ["--quick"], []),))
    assert run_all.main([f"--{mode}"]) == 0
    assert full.read_text() == '{"reference": true}' and (results / "SUMMARY.md").read_text() == "full summary"
    assert sorted(p.name for p in results.iterdir() if p.is_file()) == ["SUMMARY.md", "fake_a.json"]
    written = {p.name for p in (results / mode).iterdir()}
    assert {"fake_a.json", "SUMMARY.md"} <= written
    summary = (results / mode / "SUMMARY.md").read_text()
    assert summary.startswith(f"# Benchmark summary: {mode} run") and f"--{mode}" in summary


def test_smoke_pass_fails_when_a_benchmark_writes_nothing_or_is_missing(
        results: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_benchmark(monkeypatch, "fake_silent", writes=False)
    monkeypatch.setattr(run_all, "BENCHMARKS", (("bench.fake_silent", ["--quick"], []),))
    assert run_all.main(["--smoke"]) == 1
    monkeypatch.setattr(run_all, "BENCHMARKS", (("bench.no_such_benchmark", ["--quick"], []),))
    assert run_all.main(["--smoke"]) == 1


class _Parsed(Exception):
    """Raised instead of running the benchmark once its arguments parsed."""


_RUNS = [(module, kind, args) for module, quick, full in run_all.BENCHMARKS
         for kind, args in (("smoke", run_all.SMOKE_ARGS), ("quick", quick), ("full", full)) if args is not None]


@pytest.mark.parametrize(("module_name", "kind", "args"), _RUNS, ids=[f"{m[6:]}-{k}" for m, k, _ in _RUNS])
def test_every_benchmark_accepts_the_arguments_run_all_gives_it(
        module_name: str, kind: str, args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A flag renamed in a benchmark (or a new one without --smoke) fails here, not at the next measurement."""
    parse = argparse.ArgumentParser.parse_args

    def parse_then_stop(self: argparse.ArgumentParser, *a: object, **k: object) -> argparse.Namespace:
        raise _Parsed(parse(self, *a, **k))  # type: ignore[arg-type]

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    module = importlib.import_module(module_name)
    with pytest.raises(_Parsed) as parsed:
        module.main(list(args))
    namespace = parsed.value.args[0]
    if kind != "full":
        assert getattr(namespace, kind) is True


def test_smoke_pass_fails_when_a_benchmark_writes_outside_its_folder(
        results: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def main(argv: Sequence[str] | None = None) -> int:
        common.write_result("fake_stray", {}, settings={}, argv=argv)  # the smoke result, where it belongs
        common.write_result("fake_stray", {}, settings={}, argv=[])  # and a stray full-run file
        return 0

    module = types.ModuleType("bench.fake_stray")
    module.main = main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bench.fake_stray", module)
    monkeypatch.setattr(run_all, "BENCHMARKS", (("bench.fake_stray", ["--quick"], []),))
    assert run_all.main(["--smoke"]) == 1
    assert "fake_stray.json" in capsys.readouterr().err
