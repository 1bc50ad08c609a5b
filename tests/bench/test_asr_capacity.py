"""The ASR capacity benchmark's pure parts: the capacity rule and where streams start (no models)."""

from __future__ import annotations

from bench.asr_capacity import LevelResult, capacity, stream_offsets


def _level(n: int, lags: list[float], mode: str = "sequential") -> LevelResult:
    return LevelResult(mode=mode, streams=n, audio_s=10.0 * n, wall_s=10.0, cpu_s=5.0, busy_s=5.0, decodes=len(lags),
                       batches=max(1, len(lags)), lags=lags)


def test_capacity_is_the_largest_n_with_every_smaller_n_passing() -> None:
    levels = [_level(1, [0.5, 1.0]), _level(2, [1.0, 1.5]), _level(3, [2.5, 3.0]), _level(4, [0.1])]
    assert capacity(levels, max_lag_s=2.0) == 2  # N=4 passing after N=3 failed does not count


def test_capacity_is_zero_when_one_stream_fails_or_nothing_was_decoded() -> None:
    assert capacity([_level(1, [5.0])], max_lag_s=2.0) == 0
    assert capacity([_level(1, [])], max_lag_s=2.0) == 0
    assert capacity([], max_lag_s=2.0) == 0


def test_level_figures_are_ratios_of_the_run() -> None:
    figures = _level(2, [1.0, 2.0, 3.0]).figures()
    assert figures["cpu_s_per_audio_s"] == 0.25
    assert figures["worker_utilisation"] == 0.5
    assert figures["lag_s"]["n"] == 3


def test_stream_offsets_spread_streams_over_the_file() -> None:
    assert stream_offsets(100.0, 20.0, 1) == [0.0]
    assert stream_offsets(100.0, 20.0, 4) == [0.0, 20.0, 40.0, 60.0]
    assert stream_offsets(10.0, 20.0, 2) == [0.0, 0.0]  # file shorter than a stretch: all start at 0


def test_figures_compare_batched_with_sequential_at_the_same_n() -> None:
    from bench.asr_capacity import _figures

    levels = [_level(1, [1.0]), _level(1, [1.0], "batched"), _level(2, [1.0, 4.0]), _level(2, [1.0, 2.0], "batched")]
    figures = _figures(levels, max_lag_s=2.0)
    assert figures["capacity"] == {"sequential": 1, "batched": 2}
    assert figures["batched_over_sequential_capacity"] == 2.0
    assert set(figures["p95_lag_batched_over_sequential"]) == {"n2"}  # N=1 is one shared run: no ratio


def test_capacity_is_flagged_as_a_lower_bound_when_every_n_tried_passed() -> None:
    from bench.asr_capacity import _figures

    figures = _figures([_level(1, [1.0]), _level(2, [1.0]), _level(1, [1.0], "batched"), _level(2, [3.0], "batched")],
                       max_lag_s=2.0)
    assert figures["capacity_is_lower_bound"] == {"sequential": True, "batched": False}


def test_capacity_with_word_latency_stops_where_words_come_late_or_audio_was_dropped() -> None:
    levels = [_level(n, [0.5]) for n in (1, 2, 3)]
    for level, words in zip(levels, ([1.0, 1.5], [1.2, 2.0], [2.0, 4.0]), strict=True):
        level.word_latencies = words
    assert capacity(levels, max_lag_s=2.0) == 3  # every decode's own lag is fine
    assert capacity(levels, max_lag_s=2.0, max_word_latency_s=2.5) == 2  # words p95 ~3.9 s at N=3
    levels[1].ladder = {"share_at_level": [0.9, 0.05, 0.03, 0.02], "dropped_s": 1.5}
    assert capacity(levels, max_lag_s=2.0) == 1  # a level that dropped audio did not hold


def test_word_latency_counts_each_committed_word_once_when_first_committed() -> None:
    from bench.capacity_engine import WordLatency
    from streamvoice.asr.events import Final, Partial, Word

    a, b, c = Word("a", 0.0, 0.5, 0.9), Word("b", 0.5, 1.0, 0.9), Word("c", 1.0, 1.4, 0.9)
    clock = WordLatency()
    clock.observe(0, [Partial(0, 1, "a b", "a", (a, b), 1)], now_s=1.5)  # "a" committed
    clock.observe(0, [Partial(0, 2, "a b c", "a b", (a, b, c), 2)], now_s=2.0)  # "b" committed
    clock.observe(1, [Partial(0, 1, "a", "a", (a,), 1)], now_s=0.7)  # another stream, same utterance id
    clock.observe(0, [Final(0, "a b c", (a, b, c), "en", 0.99, 0.0, 1.4, "silence")], now_s=2.4)
    assert [round(x, 3) for x in clock.latencies] == [1.0, 1.0, 0.2, 1.0]  # a, b, stream 1's a, c at the final
