"""Which frames the vocoder runs over: pads and a closing pause are skipped, with their context kept."""

from __future__ import annotations

import numpy as np

from streamvoice.tts.sound_frames import LEAD_CONTEXT, TAIL_CONTEXT, place, sounding_span


def test_a_one_word_opener_skips_most_of_its_lead_pad_and_its_comma_pause() -> None:
    durations = np.array([20, 2, 3, 4, 15, 9, 1])  # "Sure," as Kokoro aligned it: pad, ʃ ʊ ɹ..., comma, pad
    assert sounding_span(durations, ends_in_pause=True) == (20 - LEAD_CONTEXT, 54 - (10 - TAIL_CONTEXT))


def test_a_chunk_cut_mid_sentence_keeps_its_last_phoneme_and_skips_only_the_closing_pad() -> None:
    durations = np.array([14, 2, 2, 3, 12, 7])  # the last phoneme (12 frames) is sound, not a pause
    assert sounding_span(durations, ends_in_pause=False) == (14 - LEAD_CONTEXT, 40 - (7 - TAIL_CONTEXT))


def test_short_pads_are_vocoded_whole() -> None:
    assert sounding_span(np.array([5, 3, 3, 2]), ends_in_pause=False) == (0, 13)


def test_without_durations_everything_is_vocoded() -> None:
    assert sounding_span(np.array([40]), ends_in_pause=False) == (0, 40)
    assert sounding_span(np.array([], dtype=np.int64), ends_in_pause=True) == (0, 0)


def test_place_puts_the_vocoded_frames_back_at_their_time_among_zeros() -> None:
    out = place(np.ones(2 * 10, np.float32), lo=3, total=7, frame_samples=10)
    assert out.size == 70 and out.dtype == np.float32
    assert not out[:30].any() and out[30:50].all() and not out[50:].any()
