"""README's Performance table, generated from the full run's results (``bench/results/<name>.json``).

The figures in README are quoted from the JSON, never typed by hand, so the two cannot drift apart:

    python -m bench.table            # print the table
    python -m bench.table --write    # rewrite it in README.md between the perf-table markers
    python -m bench.table --check    # exit 1 when README and the JSON disagree (tests/bench/test_table.py)

Each row reads its figures by key from one benchmark's JSON. A row whose figure is missing (the
benchmark was not run, or its JSON no longer has that key) is left out of the table, with a note
on stderr, instead of failing: benchmarks change, and their rows follow when they are rerun. A row
that breaks on a figure of another type is left out too, but ``--check`` then fails.

To add a figure: add one ``Row`` to that benchmark's tuple in ``ROWS`` (``what`` and ``figure``
are functions of the benchmark's ``Result``; read keys with ``r.num("a.b")``, ``r["a.b"]``,
``r.setting(...)``), then run ``python -m bench.table --write``.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR

README = Path(__file__).resolve().parents[1] / "README.md"
START = "<!-- perf-table:start -->"
END = "<!-- perf-table:end -->"
HEADER = "| what | figure | command |\n|---|---|---|"
BROKEN = "failed (fix the row in bench/table.py)"


class MissingFigure(KeyError):
    """A row's figure is absent, null or not of the kind the row needs: the row is left out."""


class Result:
    """One benchmark's full-run JSON, read by dotted key (``"ttfa_streamed_s.p50"``)."""

    def __init__(self, name: str, payload: Mapping[str, Any]) -> None:
        self.name = name
        self.payload = payload
        self.figures: Mapping[str, Any] = payload.get("figures") or {}
        self.command: str = payload.get("command") or f"python -m bench.{name}"

    def __getitem__(self, key: str) -> Any:
        return _lookup(self.figures, key, f"{self.name}: no figure {key!r}")

    def num(self, key: str) -> float:
        """A figure that must be a number (a figure that became a dict or a list leaves the row out)."""
        return _number(self[key], f"{self.name}: figure {key!r} is not a number")

    def setting(self, key: str) -> Any:
        return _lookup(self.payload.get("settings") or {}, key, f"{self.name}: no setting {key!r}")

    def machine(self, key: str) -> Any:
        return _lookup(self.payload.get("machine") or {}, key, f"{self.name}: no machine field {key!r}")


def _lookup(tree: Mapping[str, Any], key: str, missing: str) -> Any:
    """``"a.b.c"`` through nested dicts; a flat key that itself holds dots (``"wer_stream.vctk"``) works too."""
    parts = key.split(".")
    value: Any = tree
    while parts:
        if not isinstance(value, Mapping):
            raise MissingFigure(missing)
        for cut in range(len(parts), 0, -1):  # the longest key present at this level
            name = ".".join(parts[:cut])
            if value.get(name) is not None:
                value, parts = value[name], parts[cut:]
                break
        else:
            raise MissingFigure(missing)
    return value


def _number(value: Any, message: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MissingFigure(message)
    return float(value)


# -- formatters: one place decides how a kind of figure reads ---------------------------------------------
def pct(x: float, digits: int = 2) -> str:
    return f"{x * 100:.{digits}f} %"


def signed_pct(x: float, digits: int = 1) -> str:
    return f"{x * 100:+.{digits}f} %"


def sec(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f} s"


def ms(x: float) -> str:
    return f"{x * 1e3:.0f} ms"


def us(x: float) -> str:
    return f"{x * 1e6:.0f} µs"


def count(x: float) -> str:
    return f"{x:,.0f}"


def at_least(r: Result, mode: str) -> str:
    """'≥' where asr_capacity's capacity is only a lower bound (every N tried passed)."""
    try:
        return "≥" if r[f"capacity_is_lower_bound.{mode}"] is True else ""
    except MissingFigure:
        return ""


def laddered(r: Result) -> str:
    """asr_capacity's laddered arm, where the run has one: streams held under the degradation ladder."""
    try:
        n = r.num("capacity.laddered")
    except MissingFigure:
        return ""
    return (f"; {at_least(r, 'laddered')}{n:.0f} under the server's degradation ladder (one decode at a time, "
            "a stream's partials 3x slower past a quarter of `max_asr_lag_ms` of undecoded speech, no audio dropped)")


def word_capacity(r: Result) -> str:
    """asr_capacity's second capacity, where the run has it: committed words on time as well."""
    try:
        caps, limit = r["capacity_word_latency"], r.num("max_word_latency_s")
    except MissingFigure:
        return ""
    arms = ", ".join(f"{caps[m]} {m}" for m in ("sequential", "batched", "laddered") if m in caps)
    return f". With committed words p95 ≤ {limit:g} s as well (what a captioning user sees): **{arms}**"


def rss_growth(r: Result, phase: str) -> str:
    """Server RSS change over one reliability phase (the JSON holds percent already)."""
    return f"{r.num(f'rss.{phase}.growth_pct'):+.2f} %"


def rss_after_warm_up(r: Result, phase: str) -> str:
    """A phase's RSS change with the part after its warm-up prefix, where the run sampled it: a leak
    grows with the work, a warm-up (allocator arenas, buffers sized by the first inputs) levels off."""
    try:
        after = r.num(f"rss.{phase}.growth_after_warm_up_pct")
        last = r.num(f"rss.{phase}.growth_second_half_after_warm_up_pct")
        share = r.num(f"rss.{phase}.warm_up_fraction")
    except MissingFigure:
        return rss_growth(r, phase)
    return (f"{rss_growth(r, phase)} ({after:+.2f} % after its first {share * 100:.0f} % of frames, "
            f"{last:+.2f} % over the last half)")


def stuck_before(r: Result) -> str:
    """Sessions of the earlier phases still open when the idle phase began (they hold places at the limit)."""
    n = r.num("idle.sessions_open_before")
    return f" (+{n:.0f} of the phases before still open, of the limit {r.setting('idle')})" if n else ""


def batching_speedups(r: Result) -> str:
    sizes = sorted(int(k[1:]) for k in r.figures if k.startswith("n") and k[1:].isdigit() and int(k[1:]) > 1)
    if not sizes:
        raise MissingFigure("asr_batching: no batch of more than one")
    return ", ".join(f"{r.num(f'n{n}.speedup'):.2f}x (N={n})" for n in sizes)


def busy_count(r: Result) -> int:
    """The largest busy-process count the run measured."""
    return max(int(c) for c in r.setting("busy_counts"))


def busy_figure(r: Result) -> str:
    """Busy and quiet word latency, and what the server announced in ``flow`` while busy."""
    n = busy_count(r)
    busy, quiet = f"busy_{n}", "busy_0"
    return (f"p50 **{sec(r.num(busy + '.word_latency_p50_s'))}**, p95 **{sec(r.num(busy + '.word_latency_p95_s'))}** "
            f"(quiet: p50 {sec(r.num(quiet + '.word_latency_p50_s'))}, "
            f"p95 {sec(r.num(quiet + '.word_latency_p95_s'))}); "
            f"`flow` while busy: {r.num(busy + '.flow_messages'):.0f} messages, highest level "
            f"{r.num(busy + '.highest_level'):.0f}, {r.num(busy + '.dropped_ms'):.0f} ms of audio dropped")


def wer_per_folder(r: Result) -> str:
    """'folder stream % / offline %' for every folder asr_wer scored (its ``words.<folder>`` keys)."""
    folders = [k.split(".", 1)[1] for k in r.figures if k.startswith("words.")]
    if not folders:
        raise MissingFigure("asr_wer: no per-folder figures")
    return ", ".join(f"{f} {pct(r.num(f'wer_stream.{f}'), 1)} / {pct(r.num(f'wer_offline.{f}'), 1)}"
                     for f in folders)


def hidden_errors(r: Result) -> str:
    """Language flips, doubled phrases and repeated words kept: asr_wer's counts beside offline's."""
    repeats = [v for k, v in r.figures.items() if k.startswith("repeats.") and isinstance(v, Mapping)]
    if not repeats:
        raise MissingFigure("asr_wer: no repeated-word clips")
    # a word said n times and written more often is kept n times: a loop's extra copies are not kept words
    kept = sum(min(v["stream"], v["reference"]) for v in repeats)
    offline = sum(min(v["offline"], v["reference"]) for v in repeats)
    said = sum(v["reference"] for v in repeats)
    extra = (sum(max(0, v["stream"] - v["reference"]) for v in repeats),
             sum(max(0, v["offline"] - v["reference"]) for v in repeats))
    return (f"words in a non-Latin script {r.num('foreign_script_words_stream'):.0f} vs "
            f"{r.num('foreign_script_words_offline'):.0f}; finals not in English "
            f"{r.num('stream_finals_not_english'):.0f}; phrases doubled by streaming only "
            f"{r.num('doubled_phrases_stream_only'):.0f}; repeated words kept {kept} vs {offline} of {said} "
            f"(written more often than said: {extra[0]} vs {extra[1]})")


def ttfa_key(r: Result, rate: str, window: str = "0") -> str:
    """Where a rate's figures are: per first-window setting when the run compared settings (the
    table shows the default, 0 = off, unless asked), else at the top."""
    try:
        r[f"by_first_window_ms.{window}.{rate}"]
    except MissingFigure:
        if window != "0":
            raise
        return rate
    return f"by_first_window_ms.{window}.{rate}"


def ttfa_at(r: Result, rate: str, window: str = "0") -> str:
    """tts_ttfa through the server at one word rate: streamvoice against kokoro-onnx, sentence at a time."""
    k = ttfa_key(r, rate, window)
    ours, theirs = r.num(f"{k}.streamvoice_s.p50"), r.num(f"{k}.kokoro_onnx_s.p50")
    text = (f"streamvoice p50 **{sec(ours)}**, max {sec(r.num(f'{k}.streamvoice_s.max'))} vs kokoro-onnx "
            f"sentence at a time p50 {sec(theirs)}, max {sec(r.num(f'{k}.kokoro_onnx_s.max'))} "
            f"({ours / theirs:.2f}x)")
    try:
        heard, peer = r.num(f"{k}.streamvoice_sound_s.p50"), r.num(f"{k}.kokoro_onnx_sound_s.p50")
    except MissingFigure:
        return text
    return f"{text}; first sound heard p50 {sec(heard)} vs {sec(peer)}"


def first_window(r: Result) -> str:
    """The first chunk vocoded in two windows (off by default): first audio, and playback gaps."""
    parts = []
    for rate in ("15wps", "50wps"):
        k = ttfa_key(r, rate, "400")
        parts.append(f"{rate[:2]} words/s p50 {sec(r.num(f'{k}.streamvoice_s.p50'))} "
                     f"(off: {sec(r.num(f'{ttfa_key(r, rate)}.streamvoice_s.p50'))}), "
                     f"worst gap before the next chunk {sec(-min(0.0, r.num(f'{k}.reply_margin_min_s')))}")
    return "; ".join(parts)


def float_graph(r: Result) -> str:
    ratio, pairs = r.num("wall_ratio_float_over_int8.p50"), r.num("wall_ratio_float_over_int8.n")
    if ratio >= 1.0:
        return f"float is **{ratio:.2f}x slower** (wall, p50 of {pairs:.0f} pairs): int8 stays"
    return f"float is **{1 / ratio:.2f}x faster** (wall, p50 of {pairs:.0f} pairs)"


# -- the table ---------------------------------------------------------------------------------------------
Text = Callable[[Result], str]


@dataclass(frozen=True, slots=True)
class Row:
    what: Text
    figure: Text


# Benchmark -> its rows, in README order. One Row per figure; a row reads only its benchmark's JSON.
ROWS: dict[str, tuple[Row, ...]] = {
    "asr_wer": (
        Row(lambda r: f"Streaming WER vs offline faster-whisper (beam 5), all English dev speech "
                      f"({r.num('clips'):.0f} clips and streams, {count(r.num('reference_words'))} words, same model)",
            lambda r: f"**{pct(r.num('wer_stream'))}** streaming vs **{pct(r.num('wer_offline'))}** offline "
                      f"(ratio {r.num('ratio_stream_vs_offline'):.2f})"),
        Row(lambda r: "WER per folder, streaming / offline", wer_per_folder),
        Row(lambda r: "Errors WER hides (streaming vs offline, same clips)", hidden_errors),
        Row(lambda r: "Compute per audio second, streaming at instant pacing",
            lambda r: sec(r.num("compute_s_per_audio_s_stream"))),
        Row(lambda r: "Encoder window: audio + 1 s instead of padding to 30 s (`--full-window` arm)",
            lambda r: f"WER {pct(r.num('wer_stream'), 1)} vs {pct(r.num('wer_stream_full'), 1)}, compute "
                      f"**{r.num('compute_s_per_audio_s_stream'):.2f} vs "
                      f"{r.num('compute_s_per_audio_s_stream_full'):.2f} s per audio s**"),
    ),
    "asr_wer_two_model": (
        Row(lambda r: f"Two-model option (`asr.partial_model`): partials on {r.setting('partial_model')}, finals on "
                      f"{r.setting('model')}, same clips ({count(r.num('reference_words'))} words)",
            lambda r: f"{pct(r.num('wer_stream'))} streaming vs {pct(r.num('wer_offline'))} offline (ratio "
                      f"{r.num('ratio_stream_vs_offline'):.2f}); per folder {wer_per_folder(r)}"),
    ),
    "asr_latency": (
        Row(lambda r: f"Word latency at real time (long-form, {r.num('audio_s'):.0f} s, {r.num('words'):.0f} words)",
            lambda r: f"p50 **{sec(r.num('word_latency_p50_s'))}**, p95 **{sec(r.num('word_latency_p95_s'))}**"),
        Row(lambda r: f"Final latency at real time ({r.num('finals'):.0f} finals; the file has no "
                      f"{r.setting('end_of_speech_ms')} ms pause, so these are length cuts)",
            lambda r: f"p50 {sec(r.num('final_latency_p50_s'))}, p95 {sec(r.num('final_latency_p95_s'))}"),
        Row(lambda r: f"CPU per audio second at real time, one stream, partials every "
                      f"{r.setting('partial_interval_ms')} ms",
            lambda r: sec(r.num("cpu_s_per_audio_s"))),
    ),
    "asr_capacity": (
        Row(lambda r: f"Concurrent real-time streams before p95 lag > {r.setting('max_lag_s'):g} s",
            lambda r: f"**{at_least(r, 'sequential')}{r.num('capacity.sequential'):.0f}** one decode at a time; "
                      f"{at_least(r, 'batched')}{r.num('capacity.batched'):.0f} with cross-session batching "
                      f"(max {r.setting('max_batch')}){laddered(r)}{word_capacity(r)}"),
    ),
    "asr_batching": (
        Row(lambda r: f"Cross-session batching, raw decode of N {r.setting('seconds'):g} s windows",
            lambda r: f"{batching_speedups(r)} faster than one by one"),
    ),
    "asr_cost": (
        Row(lambda r: f"Where one stream's CPU goes, {r.setting('model')}, {r.setting('audio_s'):g} s of the long "
                      f"reading (every decode of a real-time run, at speed 0), partials every "
                      f"{r.setting('partial_interval_ms')} ms",
            lambda r: f"**{r.num('cpu_s_per_audio_s'):.2f}** CPU s per audio s: decoder (beam "
                      f"{r.setting('partial_beam_size')}) {r.num('per_audio_s.generate'):.2f}, encoder "
                      f"{r.num('per_audio_s.encode'):.2f}, word alignment {r.num('per_audio_s.align'):.2f}, mel "
                      f"{r.num('per_audio_s.mel'):.2f}, language checks {r.num('per_audio_s.detect'):.2f}, the rest of "
                      f"the decode {r.num('per_audio_s.decode other'):.3f}, VAD and stream "
                      f"{r.num('per_audio_s.stream (VAD, buffer, agreement)'):.3f}; resampling 48 kHz input "
                      f"{r.num('resample_48k_cpu_s_per_audio_s'):.4f}"),
    ),
    "asr_cost_two_model": (
        Row(lambda r: f"Same, partials on {r.setting('partial_model')} (two-model option)",
            lambda r: f"{r.num('cpu_s_per_audio_s'):.2f} CPU s per audio s: decoder "
                      f"{r.num('per_audio_s.generate'):.2f}, encoder {r.num('per_audio_s.encode'):.2f}, "
                      f"word alignment {r.num('per_audio_s.align'):.2f}"),
    ),
    "asr_busy": (
        Row(lambda r: f"Word latency through the server with {busy_count(r)} other "
                      f"process{'es' if busy_count(r) > 1 else ''} spinning on the CPU "
                      f"(long-form, {r.setting('audio_s'):g} s, real time), quiet run beside it",
            busy_figure),
    ),
    "asr_backends": (
        Row(lambda r: f"MLX Whisper on this CPU vs CTranslate2, {r.setting('model')}, "
                      f"{len(r.setting('clips'))} clips (same windows and rules)",
            lambda r: f"WER {pct(r.num('mlx.wer'))} vs {pct(r.num('ctranslate2.wer'))}; compute "
                      f"{r.num('mlx_over_ctranslate2.compute_per_audio_s'):.1f}x, 30 s encoder "
                      f"{r.num('mlx_over_ctranslate2.encoder_30s_window_s'):.1f}x, decoder token "
                      f"{r.num('mlx_over_ctranslate2.decoder_token_ms'):.1f}x CTranslate2's"),
    ),
    "tts_ttfa": (
        Row(lambda r: f"TTS time to first audio, two-sentence replies streamed at {r.setting('rate_wps'):g} words/s "
                      f"({r.num('ttfa_streamed_s.n'):.0f} replies)",
            lambda r: f"streamed p50 **{sec(r.num('ttfa_streamed_s.p50'))}**, p95 {sec(r.num('ttfa_streamed_s.p95'))} "
                      f"vs whole-sentence baseline p50 {sec(r.num('ttfa_baseline_s.p50'))}, "
                      f"p95 {sec(r.num('ttfa_baseline_s.p95'))} "
                      f"({r.num('ttfa_streamed_s.p50') / r.num('ttfa_baseline_s.p50'):.2f}x)"),
        Row(lambda r: "TTS real-time factor",
            lambda r: f"**{r.num('rtf'):.2f}** (synthesis time / audio time)"),
        # through `streamvoice serve`, one entry per word rate: these rows appear once its full run is rerun
        Row(lambda r: f"TTS time to first audio (first frame) through the server, two-sentence replies at 15 words/s "
                      f"({r.num(ttfa_key(r, '15wps') + '.streamvoice_s.n'):.0f} replies)",
            lambda r: ttfa_at(r, "15wps")),
        Row(lambda r: f"Same at 50 words/s ({r.num(ttfa_key(r, '50wps') + '.streamvoice_s.n'):.0f} replies)",
            lambda r: ttfa_at(r, "50wps")),
        Row(lambda r: "Same with the first chunk vocoded in two windows (`tts.first_audio_window_ms` 400, off by "
                      "default), same run", first_window),
        Row(lambda r: "Server start → ready (models loaded and warmed up)",
            lambda r: sec(r.num(f"{ttfa_key(r, '15wps')}.start_to_ready_s"), 1)),
        Row(lambda r: "Cancel → synthesis abandoned (in process)",
            lambda r: f"p50 {ms(r.num('cancel_stop_s.p50'))}"),
    ),
    "tts_roundtrip": (
        Row(lambda r: f"TTS round-trip WER ({r.num('texts'):.0f} reference texts → {r.setting('voice')} "
                      "→ whisper-base)",
            lambda r: f"**{pct(r.num('wer'))}** ({r.num('errors'):.0f} / {r.num('words'):.0f} words)"),
        # streamed vs whole sentences vs kokoro-onnx: these rows appear once its full run is rerun
        Row(lambda r: f"TTS round-trip WER ({r.num('sentences'):.0f} sentences → {r.setting('voice')} → "
                      f"whisper-base, beam 5; {count(r.num('words.all'))} words)",
            lambda r: f"**{pct(r.num('wer.streamed'))}** streamed, {pct(r.num('wer.whole'))} whole sentences, "
                      f"{pct(r.num('wer.kokoro-onnx'))} kokoro-onnx"),
        Row(lambda r: "Kokoro real-time factor (synthesis time / audio time)",
            lambda r: f"**{r.num('rtf.streamed'):.2f}** streamed, {r.num('rtf.kokoro-onnx'):.2f} kokoro-onnx"),
    ),
    "tts_graph": (
        Row(lambda r: "Kokoro int8 graph vs a dequantized float copy", float_graph),
    ),
    "voice_loop": (
        Row(lambda r: "Voice loop: end of user speech → first reply audio, echo agent, loopback socket "
                      f"({len(r.setting('clips'))} clips)",
            lambda r: f"p50 **{sec(r.num('speech_end_to_first_audio_s.p50'))}**, "
                      f"p95 {sec(r.num('speech_end_to_first_audio_s.p95'))} "
                      f"(speech end → final {sec(r.num('speech_end_to_final_s.p50'))}, "
                      f"final → first audio {sec(r.num('final_to_first_audio_s.p50'))})"),
        Row(lambda r: "Voice loop over a WebRTC call (aiortc client; reply heard on the speech track), same clips, "
                      "same run",
            lambda r: f"p50 **{sec(r.num('webrtc.speech_end_to_first_audio_s.p50'))}**, "
                      f"p95 {sec(r.num('webrtc.speech_end_to_first_audio_s.p95'))}; call set-up (offer POST → "
                      f"data channel open) p50 {ms(r.num('webrtc.session_setup_s.p50'))}"),
    ),
    "voice_loop_llm": (
        Row(lambda r: "Voice loop, LLM agent on the server (local stub: "
                      f"{r.setting('llm_tokens_per_s'):g} tokens/s after {sec(r.setting('llm_first_token_s'))}), "
                      f"without / with the eager end of turn ({r.setting('eager_ms')} ms), "
                      f"{len(r.setting('clips'))} clips, one run",
            lambda r: f"p50 **{sec(r.num('plain.speech_end_to_first_audio_s.p50'))}** / "
                      f"**{sec(r.num('eager.speech_end_to_first_audio_s.p50'))}**, "
                      f"p95 {sec(r.num('plain.speech_end_to_first_audio_s.p95'))} / "
                      f"{sec(r.num('eager.speech_end_to_first_audio_s.p95'))}; "
                      f"{r.num('eager.eager_finals'):.0f} eager finals in {r.num('eager.utterances'):.0f} turns, "
                      f"withdrawn "
                      f"{r.num('eager.eager_withdrawn_per_100_turns'):.0f} per 100 turns; speech end → eager final "
                      f"p50 {sec(r.num('eager.speech_end_to_eager_final_s.p50'))}; over WebRTC, same run: p50 "
                      f"{sec(r.num('plain_webrtc.speech_end_to_first_audio_s.p50'))} / "
                      f"{sec(r.num('eager_webrtc.speech_end_to_first_audio_s.p50'))}, p95 "
                      f"{sec(r.num('plain_webrtc.speech_end_to_first_audio_s.p95'))} / "
                      f"{sec(r.num('eager_webrtc.speech_end_to_first_audio_s.p95'))}"),
    ),
    "server_overhead": (
        Row(lambda r: f"Server overhead, fake engine, {r.num('clients'):.0f} clients x "
                      f"{1000 / r.setting('frame_ms'):.0f} frames/s",
            lambda r: f"{count(r.num('frames_per_cpu_s'))} frames per server CPU-second; routing p50 "
                      f"{us(r.num('routing_s.p50'))}, p99 {us(r.num('routing_s.p99'))}; "
                      f"{r.num('rss_mb_per_session'):.1f} MiB per session"),
        Row(lambda r: f"Barge-in: client `cancel` → `tts_done` ({r.num('clients'):.0f} clients on the same "
                      f"{r.machine('cores')} cores)",
            lambda r: f"p50 {ms(r.num('barge_in_s.p50'))}, p95 {ms(r.num('barge_in_s.p95'))}"),
    ),
    "reliability": (
        Row(lambda r: f"Live-socket fuzz: random, mutated, truncated, oversized and out-of-order frames from "
                      f"{r.setting('fuzz_workers')} sessions at once ({r.setting('asr_model')} + Kokoro loaded), "
                      "beside a healthy session streaming speech",
            lambda r: f"**{count(r.num('fuzz.frames'))}** frames in {count(r.num('fuzz.sessions'))} sessions: "
                      f"**{r.num('crashes'):.0f} crashes**, {r.num('fuzz.unanswered'):.0f} unanswered, "
                      f"{r.num('fuzz.nonconforming'):.0f} answered off-spec; healthy transcript right "
                      f"{r.num('fuzz.healthy_right'):.0f}/{r.num('fuzz.healthy_clips'):.0f}; "
                      f"RSS {rss_after_warm_up(r, 'fuzz')}"),
        Row(lambda r: "Floods: connection churn, handshakes that never finish, idle sessions at the admission limit",
            lambda r: f"{count(r.num('churn.cycles'))} connect/hello/bye cycles ({count(r.num('churn.clean'))} clean), "
                      f"RSS {rss_growth(r, 'churn')}; "
                      f"{count(r.num('handshakes.handshakes'))} stuck handshakes, "
                      f"{'all' if r['handshakes.all_closed_as_specified'] else 'NOT all'} closed as specified, "
                      f"RSS {rss_growth(r, 'handshakes')}; "
                      f"{r.num('idle.idle_sessions'):.0f} idle sessions{stuck_before(r)}, one more refused 1013, "
                      f"{r.num('idle.answered_after_idle'):.0f} answer after, "
                      f"RSS {rss_growth(r, 'idle')}"),
        Row(lambda r: f"Reader stalled mid-reply: a websockets client reads nothing for "
                      f"{r.num('stalled_reader.stall_s'):.0f} s of a long reply (48 kHz float), then reads on",
            lambda r: f"{'`error` `slow_consumer` last, close ' if r['stalled_reader.ok'] else 'NOT as specified: '}"
                      f"{r['stalled_reader.close'][0]} (`max_unread_ms` {r.num('stalled_reader.max_unread_ms'):.0f}); "
                      f"server RSS {r.num('stalled_reader.rss_before_mb'):.0f} MB before, "
                      f"{r.num('stalled_reader.rss_peak_mb'):.0f} MB at most during the stall"),
        Row(lambda r: "Faults: client killed mid-turn; engine exception for one of 3 sessions; SIGTERM under load",
            lambda r: f"server lives, next session served (RSS {rss_growth(r, 'killed_mid_turn')}); "
                      f"that session gets `{'`, `'.join(r['engine_exception.victim_errors'])}` + "
                      f"{r.num('engine_exception.victim_close'):.0f}, the others "
                      f"{'no error' if not any(r['engine_exception.others_errors']) else 'errors'}; "
                      f"finals flushed {r.num('sigterm.finals_flushed'):.0f}/{r.num('sigterm.sessions'):.0f}, "
                      f"close {'1001' if set(r['sigterm.close_codes']) == {1001} else r['sigterm.close_codes']}, "
                      f"exit {r.num('sigterm.exit_code'):.0f} in {sec(r.num('sigterm.stop_s'), 1)}"),
    ),
}


def _mode(payload: Mapping[str, Any]) -> str:
    """The run's mode; files written before JSON named it tell by their command line."""
    mode = payload.get("mode")
    if isinstance(mode, str):
        return mode
    words = str(payload.get("command", "")).split()
    return "smoke" if "--smoke" in words else "quick" if "--quick" in words else "full"


def load_results(folder: Path = RESULTS_DIR, names: Iterable[str] | None = None,
                 notes: list[str] | None = None) -> dict[str, Result]:
    """The full-run results in ``folder``; a quick or smoke file found there is refused (noted)."""
    out: dict[str, Result] = {}
    for name in names if names is not None else ROWS:
        path = folder / f"{name}.json"
        if not path.is_file():
            _note(notes, f"{name}: no {path.name} in {folder}")
            continue
        payload = json.loads(path.read_text(encoding="utf-8"))
        if (mode := _mode(payload)) != "full":
            _note(notes, f"{name}: {path} is from a {mode} run, not a full one: its rows are left out")
            continue
        out[name] = Result(name, payload)
    return out


def _note(notes: list[str] | None, text: str) -> None:
    if notes is not None:
        notes.append(text)


def table_rows(results: Mapping[str, Result], notes: list[str] | None = None) -> list[tuple[str, str, str]]:
    """(what, figure, command) for every row whose figures are all present."""
    rows: list[tuple[str, str, str]] = []
    for name, bench_rows in ROWS.items():
        result = results.get(name)
        if result is None:
            continue
        for i, row in enumerate(bench_rows, 1):
            try:
                rows.append((row.what(result), row.figure(result), result.command))
            except MissingFigure as exc:
                _note(notes, f"{name} row {i} left out: {exc.args[0]}")
            except (TypeError, ValueError, ZeroDivisionError) as exc:  # a figure's type changed under the row
                _note(notes, f"{name} row {i} {BROKEN}: {type(exc).__name__}: {exc}")
    return rows


def render(rows: list[tuple[str, str, str]]) -> str:
    """The Markdown table; a command repeated from the row above reads 'same'."""
    lines = [HEADER]
    previous = None
    for what, figure, command in rows:
        lines.append(f"| {what} | {figure} | {'same' if command == previous else f'`{command}`'} |")
        previous = command
    return "\n".join(lines)


def generate(folder: Path = RESULTS_DIR, notes: list[str] | None = None) -> str:
    return render(table_rows(load_results(folder, notes=notes), notes))


def split_readme(text: str) -> tuple[str, str, str]:
    """(before and including the start marker, the table, the end marker and after)."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README has no {START} ... {END} block (put the markers around the Performance table)")
    head = start + len(START)
    return text[:head], text[head:end], text[end:]


def replace_table(text: str, table: str) -> str:
    before, _, after = split_readme(text)
    return f"{before}\n{table}\n{after}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.table", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="rewrite the table in README between the markers")
    action.add_argument("--check", action="store_true", help="exit 1 if README's table differs from the JSON")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="folder of the full run's JSON")
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(argv)
    notes: list[str] = []
    table = generate(args.results, notes)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    broken = any(BROKEN in note for note in notes)  # left out too, but --check must not pass over it
    if not (args.write or args.check):
        print(table)
        return 1 if broken else 0
    text = args.readme.read_text(encoding="utf-8")
    try:
        current = split_readme(text)[1].strip()
    except ValueError as exc:
        print(f"error: {args.readme}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if current == table and not broken:
            print(f"{args.readme.name}: Performance table matches {args.results}")
            return 0
        sys.stdout.writelines(difflib.unified_diff((current + "\n").splitlines(True), (table + "\n").splitlines(True),
                                                   f"{args.readme.name} (now)", "from the JSON"))
        print(f"\n{args.readme.name}'s Performance table differs from {args.results}: "
              "run `python -m bench.table --write`" + (" (and fix the failed rows)" if broken else ""), file=sys.stderr)
        return 1
    if current != table:
        args.readme.write_text(replace_table(text, table), encoding="utf-8")
        print(f"rewrote the Performance table in {args.readme}")
    else:
        print(f"{args.readme.name}: Performance table already up to date")
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
