"""A final that stops short of the speech is decoded again without its forced prefix, and the
final hears the audio after the last voiced frame when the audio ends there. Pure rules with
hand-made words, and the stream with a fake backend on a real clip (real VAD)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from streamvoice.asr.backend import DecodeRequest, DecodeResult
from streamvoice.asr.driver import chunked, run_stream
from streamvoice.asr.events import Final, Word
from streamvoice.asr.options import StreamOptions
from streamvoice.asr.short_final import after_committed, choose_final, stops_short
from streamvoice.asr.stream import RecognizerStream
from streamvoice.audio.wavio import read_audio
from tests.asr.test_stream_routing import FakeBackend


def w(word: str, start: float, end: float) -> Word:
    return Word(word, start, end, 0.9)


COMMITTED = [w("recurring", 55.0, 55.6), w("operations", 55.6, 56.3), w("over", 56.3, 56.6)]


def test_a_final_ending_a_second_before_the_speech_stops_short() -> None:
    assert stops_short([w("17", 56.6, 57.0)], COMMITTED, speech_end_s=58.5)
    assert not stops_short([w("17", 56.6, 57.0), w("billion", 57.0, 57.6)], COMMITTED, speech_end_s=58.5)
    assert stops_short([], COMMITTED, speech_end_s=58.0)  # nothing after the prefix at all
    assert not stops_short([w("17", 56.6, 57.0)], COMMITTED, speech_end_s=None)  # a length cut: no VAD end
    assert not stops_short([], [], speech_end_s=3.0)


def test_the_retry_drops_what_it_repeats_of_the_committed_words() -> None:
    retry = [w("over", 56.2, 56.6), w("17", 56.6, 57.0), w("billion", 57.0, 57.6), w("euros.", 57.6, 58.1)]
    assert [x.word for x in after_committed(retry, COMMITTED)] == ["17", "billion", "euros."]
    two = [w("operations", 55.5, 56.3), w("over", 56.3, 56.6), w("17", 56.6, 57.0)]
    assert [x.word for x in after_committed(two, COMMITTED)] == ["17"]
    far = [w("over", 51.0, 51.3), w("17", 56.7, 57.0)]  # the same word said long before is not it
    assert [x.word for x in after_committed(far, COMMITTED)] == ["17"]
    # a word of its own before the repeat (common_voice_en_18846044: "And himself arrived ... force.")
    lead = [w("And", 54.9, 55.0), w("recurring", 55.0, 55.6), w("operations", 55.6, 56.3), w("over", 56.3, 56.8)]
    assert after_committed(lead, COMMITTED) == []
    unmatched = [w("ver", 56.3, 56.7), w("17", 56.7, 57.0)]  # no text match: by time, nothing before the end
    assert [x.word for x in after_committed(unmatched, COMMITTED)] == ["17"]
    assert after_committed(retry, []) == retry


def test_the_retry_is_kept_only_when_it_reaches_further() -> None:
    first = [w("17", 56.6, 57.0)]
    longer = [w("17", 56.6, 57.0), w("billion", 57.0, 57.6)]
    assert choose_final(first, longer) == longer
    assert choose_final(first, [w("17.", 56.6, 57.1)]) == first
    assert choose_final(first, []) == first
    assert choose_final([], longer) == longer


class ShortWithPrefix(FakeBackend):
    """Like the fake, but a decode forced to start with committed words stops 1.5 s before the
    end of its audio (what Whisper did on earnings22); without the prefix it hears it all."""

    def decode(self, request: DecodeRequest) -> DecodeResult:
        result = super().decode(request)
        if not request.prefix or not result.segments:
            return result
        seg = result.segments[0]
        end = request.offset_s + len(request.audio) / 16000
        words = tuple(x for x in seg.words if x.end_s <= end - 1.5)
        text = " ".join(x.word for x in words)
        return DecodeResult((replace(seg, text=text, words=words),) if words else (), "en", 0.99, 0.0)


@pytest.fixture(scope="module")
def clip(data_dir: Path) -> np.ndarray:
    x, rate = read_audio(data_dir / "LJ001-0001.wav")
    assert rate == 16000
    return x


@pytest.mark.parametrize("lookahead_ms", [400, 0])  # the final decoded in the pause, or after it
def test_a_final_that_stopped_short_is_decoded_again_without_the_prefix(clip: np.ndarray, lookahead_ms: int) -> None:
    silence = np.zeros(16000, np.float32)
    audio = np.concatenate([silence, clip, silence])
    backend = ShortWithPrefix()
    stream = RecognizerStream(StreamOptions(final_lookahead_ms=lookahead_ms))
    finals = [e for e, _, _ in run_stream(stream, backend, chunked(audio), realtime=False) if isinstance(e, Final)]
    keys = [x.word for f in finals for x in f.words]
    numbers = [int(k[1:]) for k in keys]
    assert numbers == list(range(numbers[0], numbers[-1] + 1)), "a word lost or doubled"
    speech_end = (16000 + len(clip)) / 16000
    assert finals[-1].words[-1].end_s > speech_end - 0.6, "the final still stops short"
    retries = [r for r in backend.requests if r.kind == "final" and not r.prefix]
    assert retries and all(r.prompt for r in retries)  # the committed words are the retry's prompt


def test_at_audio_end_the_final_hears_what_follows_the_last_voiced_frame(clip: np.ndarray) -> None:
    quiet = clip[-8000:] * 0.002  # too quiet for the VAD (and shorter than its end of speech)
    audio = np.concatenate([np.zeros(16000, np.float32), clip[:-8000], quiet])
    backend = FakeBackend()
    stream = RecognizerStream(StreamOptions(partials=False))
    finals = [e for e, _, _ in run_stream(stream, backend, chunked(audio), realtime=False) if isinstance(e, Final)]
    request = [r for r in backend.requests if r.kind == "final"][-1]
    end = len(audio) / 16000
    assert request.offset_s + len(request.audio) / 16000 == pytest.approx(end, abs=0.02)
    assert finals[-1].reason == "audio_end" and finals[-1].words[-1].end_s > end - 0.4
