"""README's Performance table agrees with the committed full results, and the generator survives change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import table
from bench.common import RESULTS_DIR


def test_readme_table_matches_the_committed_full_results() -> None:
    """The figures README quotes are the ones in bench/results/*.json (else: python -m bench.table --write)."""
    current = table.split_readme(table.README.read_text(encoding="utf-8"))[1].strip()
    assert current == table.generate(RESULTS_DIR), "README's table is stale: run `python -m bench.table --write`"


def test_check_command_agrees_with_the_committed_files() -> None:
    assert table.main(["--check"]) == 0


def _write(folder: Path, name: str, figures: dict[str, Any], *, mode: str | None = "full",
           settings: dict[str, Any] | None = None, command: str | None = None) -> None:
    payload: dict[str, Any] = {"name": name, "command": command or f"python -m bench.{name}",
                               "machine": {"cores": 2}, "settings": settings or {}, "figures": figures}
    if mode is not None:
        payload["mode"] = mode
    (folder / f"{name}.json").write_text(json.dumps(payload))


def test_rows_whose_figures_are_missing_are_left_out_not_fatal(tmp_path: Path) -> None:
    _write(tmp_path, "asr_wer", {"wer_offline": 0.05, "wer_stream": 0.06, "clips": 3,
                                 "reference_words": 100, "ratio_stream_vs_offline": 1.2})
    _write(tmp_path, "tts_roundtrip", {"wer": 0.01, "errors": 1, "words": 100})  # no "texts"
    notes: list[str] = []
    rows = table.table_rows(table.load_results(tmp_path, notes=notes), notes)
    assert [what.split(" (")[0] for what, _, _ in rows][:1] == [
        "Streaming WER vs offline faster-whisper"
    ]
    assert "**6.00 %** streaming" in rows[0][1] and "ratio 1.20" in rows[0][1]
    assert any("wer_stream_full" in n for n in notes)  # the encoder window row
    assert any("'texts'" in n for n in notes)
    assert any("asr_latency" in n and "no asr_latency.json" in n for n in notes)


def test_a_figure_that_changed_shape_leaves_its_row_out(tmp_path: Path) -> None:
    # e.g. a per-folder WER: a dict where the row wants a number
    _write(tmp_path, "tts_roundtrip", {"wer": {"ljspeech": 0.01}, "errors": 1, "words": 9, "texts": 1},
           settings={"voice": "af_heart"})
    assert table.table_rows(table.load_results(tmp_path)) == []


def test_quick_or_smoke_results_are_never_quoted(tmp_path: Path) -> None:
    figures = {"rtf": 0.3, "ttfa_streamed_s": {"n": 1, "p50": 1.0, "p95": 1.0}}
    _write(tmp_path, "tts_ttfa", figures, mode="quick")
    assert table.load_results(tmp_path) == {}
    _write(tmp_path, "tts_ttfa", figures, mode=None, command="python -m bench.tts_ttfa --smoke")  # no mode field
    assert table.load_results(tmp_path) == {}
    _write(tmp_path, "tts_ttfa", figures, mode=None)
    assert [what for what, _, _ in table.table_rows(table.load_results(tmp_path))] == ["TTS real-time factor"]


def test_repeated_command_reads_same() -> None:
    text = table.render([("a", "1", "python -m bench.x"), ("b", "2", "python -m bench.x"), ("c", "3", "other")])
    assert text.splitlines()[2:] == ["| a | 1 | `python -m bench.x` |", "| b | 2 | same |", "| c | 3 | `other` |"]


def test_write_replaces_only_the_marked_block_and_check_sees_drift(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "tts_roundtrip", {"wer": 0.02, "errors": 2, "words": 100, "texts": 5},
           settings={"voice": "af_heart"})
    readme = tmp_path / "README.md"
    prose_before, prose_after = "# x\n\nSome prose.\n\n", "\n\nMore prose.\n"
    readme.write_text(f"{prose_before}{table.START}\n| old | table | here |\n{table.END}{prose_after}")
    args = ["--results", str(tmp_path), "--readme", str(readme)]
    assert table.main([*args, "--check"]) == 1
    assert table.main([*args, "--write"]) == 0
    text = readme.read_text()
    assert text.startswith(prose_before + table.START) and text.endswith(table.END + prose_after)
    assert "| TTS round-trip WER (5 reference texts → af_heart → whisper-base) | **2.00 %** (2 / 100 words)" in text
    assert table.main([*args, "--check"]) == 0
    _write(tmp_path, "tts_roundtrip", {"wer": 0.03, "errors": 3, "words": 100, "texts": 5},
           settings={"voice": "af_heart"})  # a rerun changed the figure
    assert table.main([*args, "--check"]) == 1
    assert "bench.table --write" in capsys.readouterr().err


def test_readme_without_markers_is_an_error(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no table here\n")
    assert table.main(["--results", str(tmp_path), "--readme", str(readme), "--check"]) == 2


def test_figures_are_read_by_nested_or_flat_dotted_keys(tmp_path: Path) -> None:
    figures = {"wer_stream": 0.05, "wer_offline": 0.04, "ratio_stream_vs_offline": 1.25, "clips": 10,
               "reference_words": 2000, "wer_stream.vctk": 0.1, "wer_offline.vctk": 0.08, "words.vctk": 500,
               "nested": {"a.b": {"c": 2}}}
    result = table.Result("asr_wer", {"figures": figures})
    assert result.num("wer_stream.vctk") == 0.1 and result.num("wer_stream") == 0.05
    assert result.num("nested.a.b.c") == 2.0
    with pytest.raises(table.MissingFigure):
        result.num("nested.a")  # a dict, not a number
    _write(tmp_path, "asr_wer", figures)
    rows = dict((what, figure) for what, figure, _ in table.table_rows(table.load_results(tmp_path)))
    assert rows["WER per folder, streaming / offline"] == "vctk 10.0 % / 8.0 %"
    assert "**5.00 %** streaming vs **4.00 %** offline (ratio 1.25)" in rows.values()


def test_a_row_that_breaks_is_left_out_but_check_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "asr_capacity", {"capacity": {"sequential": 3, "batched": 2}},
           settings={"max_lag_s": "2 s", "max_batch": 8})  # a setting that became text: ':g' cannot format it
    notes: list[str] = []
    assert table.table_rows(table.load_results(tmp_path), notes) == []
    assert any(table.BROKEN in n for n in notes)
    readme = tmp_path / "README.md"
    readme.write_text(f"{table.START}\n{table.HEADER}\n{table.END}\n")
    assert table.main(["--results", str(tmp_path), "--readme", str(readme), "--check"]) == 1
    assert "fix the row" in capsys.readouterr().err


def test_repeated_words_are_counted_at_most_as_often_as_said() -> None:
    figures = {
        "foreign_script_words_stream": 0, "foreign_script_words_offline": 0, "stream_finals_not_english": 0,
        "doubled_phrases_stream_only": 0,
        "repeats.zero": {"word": "zero", "reference": 12, "offline": 223, "stream": 11},
        "repeats.two": {"word": "two", "reference": 10, "offline": 8, "stream": 10},
    }
    text = table.hidden_errors(table.Result("asr_wer", {"figures": figures}))
    assert text.endswith("repeated words kept 21 vs 20 of 22 (written more often than said: 0 vs 211)")
