"""RecognizerStream routing with a fake backend (real VAD on a real clip): when decodes are due,
what they cover, and how events follow. The fake 'hears' one word per 0.4 s of audio, named by
its stream time, so hypotheses agree exactly where the audio overlaps. Like a real backend it
returns only the words after the request's forced prefix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from streamvoice.asr.backend import DecodeRequest, DecodeResult, Segment
from streamvoice.asr.driver import chunked, run_stream
from streamvoice.asr.events import EagerFinal, Final, Partial, SpeechEnded, SpeechStarted, Word
from streamvoice.asr.options import StreamOptions
from streamvoice.asr.stream import RecognizerStream
from streamvoice.audio.wavio import read_audio


class FakeBackend:
    name = "fake"
    multilingual = True

    def __init__(self) -> None:
        self.requests: list[DecodeRequest] = []

    def decode(self, request: DecodeRequest) -> DecodeResult:
        self.requests.append(request)
        end = request.offset_s + len(request.audio) / 16000
        first = int(np.ceil(request.offset_s / 0.4))
        said = set(request.prefix.split())
        ws = tuple(
            Word(f"w{k}", k * 0.4, k * 0.4 + 0.3, 0.9) for k in range(first, int(end / 0.4))
            if k * 0.4 + 0.3 <= end and f"w{k}" not in said
        )
        seg = Segment(" ".join(w.word for w in ws), request.offset_s, end, ws, -0.1, 0.01, 1.1)
        return DecodeResult((seg,) if ws else (), "en", 0.99, 0.0)

    def decode_batch(self, requests: list[DecodeRequest]) -> list[DecodeResult]:
        return [self.decode(r) for r in requests]


@pytest.fixture(scope="module")
def speech(data_dir: Path) -> np.ndarray:
    x, rate = read_audio(data_dir / "LJ001-0001.wav")
    assert rate == 16000
    silence = np.zeros(16000, dtype=np.float32)
    return np.concatenate([silence, x, silence])


def test_events_and_one_decode_in_flight(speech: np.ndarray) -> None:
    stream = RecognizerStream(StreamOptions(window_s=4.0, overlap_s=0.5))
    backend = FakeBackend()
    events = [e for e, _, _ in run_stream(stream, backend, chunked(speech), realtime=False)]
    kinds = [type(e) for e in events]
    assert kinds[0] is SpeechStarted and kinds[-1] is Final
    assert SpeechEnded in kinds
    assert 0.6 < events[0].time_s < 1.3  # speech begins about 1 s in
    partials = [e for e in events if isinstance(e, Partial)]
    assert len(partials) > 5
    assert [p.revision for p in partials] == list(range(1, len(partials) + 1))
    final = events[-1]
    assert isinstance(final, Final) and final.reason == "silence"
    keys = [w.word for w in final.words]
    assert len(keys) == len(set(keys)), "a word was doubled across window slides"
    numbers = [int(k[1:]) for k in keys]
    assert numbers == list(range(numbers[0], numbers[-1] + 1)), "a word was lost across window slides"
    assert all(len(r.audio) <= 4.6 * 16000 for r in backend.requests if r.kind == "partial")


def test_next_request_is_none_while_one_is_outstanding(speech: np.ndarray) -> None:
    stream = RecognizerStream(StreamOptions())
    stream.push_audio(speech[: 16000 * 3])
    first = stream.next_request()
    assert first is not None and first.kind == "partial"
    stream.push_audio(speech[16000 * 3 : 16000 * 5])
    assert stream.next_request() is None
    stream.apply(first, FakeBackend().decode(first))
    assert stream.next_request() is not None
    with pytest.raises(ValueError, match="outstanding"):
        stream.apply(first, FakeBackend().decode(first))


def test_end_audio_and_close_finish_the_utterance(speech: np.ndarray) -> None:
    stream = RecognizerStream(StreamOptions(partials=False))
    stream.push_audio(speech[: 16000 * 2])
    assert stream.next_request() is None  # partials off: no decode at the partial cadence
    stream.push_audio(speech[16000 * 2 : 16000 * 4])
    commit = stream.next_request()  # but one every few seconds, so continuous speech stays decoded
    assert commit is not None and commit.kind == "partial"
    assert stream.apply(commit, FakeBackend().decode(commit)) == []  # and shown to no one
    assert any(isinstance(e, SpeechEnded) for e in stream.end_audio())
    request = stream.next_request()
    assert request is not None and request.kind == "final"
    (final,) = stream.apply(request, FakeBackend().decode(request))
    assert isinstance(final, Final) and final.reason == "audio_end" and final.words
    assert stream.close() == []
    assert stream.finished and stream.next_request() is None
    with pytest.raises(ValueError, match="after close"):
        stream.push_audio(speech[:160])


def test_pending_audio_and_drop_pending(speech: np.ndarray) -> None:
    stream = RecognizerStream(StreamOptions())
    stream.push_audio(speech[: 16000 * 8])
    assert stream.pending_audio_s > 6.0
    dropped = stream.drop_pending(2.0)
    assert dropped > 4.0
    assert stream.pending_audio_s == pytest.approx(2.0, abs=0.05)
    request = stream.next_request()
    assert request is not None and len(request.audio) <= 2.05 * 16000


def test_max_utterance_length_cuts_and_continues(speech: np.ndarray) -> None:
    stream = RecognizerStream(StreamOptions(max_utterance_s=3.0, window_s=2.5, overlap_s=0.5))
    events = [e for e, _, _ in run_stream(stream, FakeBackend(), chunked(speech), realtime=False)]
    finals = [e for e in events if isinstance(e, Final)]
    assert len(finals) >= 3 and finals[0].reason == "max_length"


def test_bad_input_is_refused_clearly() -> None:
    stream = RecognizerStream(StreamOptions())
    with pytest.raises(ValueError, match="mono"):
        stream.push_audio(np.zeros((10, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        stream.push_audio(np.array([np.nan], dtype=np.float32))
    with pytest.raises(ValueError, match="vad_frame_ms"):
        StreamOptions(vad_frame_ms=25)
    with pytest.raises(ValueError, match="language"):
        StreamOptions(language="english please")
    assert StreamOptions(multilingual=False, language="de", task="translate").language == "en"


def test_no_words_are_committed_from_the_first_moments_of_an_utterance(speech: np.ndarray) -> None:
    stream = RecognizerStream(StreamOptions(language="en"))
    events = [e for e, _, _ in run_stream(stream, FakeBackend(), chunked(speech), realtime=False)]
    start = next(e for e in events if isinstance(e, SpeechStarted)).time_s
    partials = [e for e in events if isinstance(e, Partial)]
    early = [p for p in partials if p.words and p.words[-1].end_s < start + 1.1]
    assert early and all(p.stable_count == 0 for p in early), "a guess from under 1.5 s of audio was committed"
    assert any(p.stable_count > 0 for p in partials)


def test_a_new_utterance_is_decoded_after_the_end_of_the_previous_one(speech: np.ndarray) -> None:
    """After a short pause the next utterance's window starts before it, the previous final's
    last words forced as the prefix; none of them comes out again."""
    pause = np.zeros(int(16000 * 0.9), dtype=np.float32)
    audio = np.concatenate([speech[: 16000 * 6], pause, speech[16000: 16000 * 6]])
    stream = RecognizerStream(StreamOptions(language="en"))
    backend = FakeBackend()
    events = [e for e, _, _ in run_stream(stream, backend, chunked(audio), realtime=False)]
    finals = [e for e in events if isinstance(e, Final)]
    assert len(finals) == 2
    second_start = [e for e in events if isinstance(e, SpeechStarted)][1].time_s
    first_request = next(r for r in backend.requests if r.utterance == 1)
    carried = finals[0].text.split()[-3:]
    assert first_request.offset_s < second_start - 1.0
    assert first_request.prefix.split()[-3:] == carried
    assert not set(finals[1].text.split()) & set(finals[0].text.split())
    assert finals[1].words[0].start_s >= second_start - 0.3
    # once the utterance has committed words, the carried audio is dropped (its words become the prompt)
    later = [r for r in backend.requests if r.utterance == 1][-1]
    assert later.offset_s >= second_start - 0.01 and carried[-1] in later.prompt.split()


def test_no_carry_after_a_long_pause(speech: np.ndarray) -> None:
    pause = np.zeros(16000 * 3, dtype=np.float32)
    audio = np.concatenate([speech[: 16000 * 6], pause, speech[16000: 16000 * 6]])
    stream = RecognizerStream(StreamOptions(language="en"))
    backend = FakeBackend()
    events = [e for e, _, _ in run_stream(stream, backend, chunked(audio), realtime=False)]
    second_start = [e for e in events if isinstance(e, SpeechStarted)][1].time_s
    first_request = next(r for r in backend.requests if r.utterance == 1)
    assert first_request.offset_s >= second_start - 0.01 and first_request.prefix == ""


def test_decodes_start_a_few_seconds_before_the_last_committed_word(speech: np.ndarray) -> None:
    stream = RecognizerStream(StreamOptions(window_s=15.0, committed_context_s=2.0, final_context_s=2.0))
    backend = FakeBackend()
    events = [e for e, _, _ in run_stream(stream, backend, chunked(speech), realtime=False)]
    final = events[-1]
    assert isinstance(final, Final)
    numbers = [int(w.word[1:]) for w in final.words]
    assert numbers == list(range(numbers[0], numbers[-1] + 1)), "a word was lost or doubled"
    late = [r for r in backend.requests if r.offset_s > 4.0]  # once words are committed
    # 2 s before the last committed word, plus what is not committed yet (margin 0.5 s, a cadence)
    assert late and all(len(r.audio) / 16000 <= 2.0 + 1.5 for r in late)
    assert all(r.prefix or r.prompt for r in late)  # what came before is prompt or forced prefix
    whole = RecognizerStream(StreamOptions(window_s=15.0, committed_context_s=0.0))
    whole_backend = FakeBackend()
    list(run_stream(whole, whole_backend, chunked(speech), realtime=False))
    assert max(len(r.audio) for r in whole_backend.requests) > 6 * 16000  # without it, the whole utterance


def test_the_final_decode_hears_more_context_than_partials(speech: np.ndarray) -> None:
    stream = RecognizerStream(StreamOptions(window_s=15.0, committed_context_s=2.0, final_context_s=6.0))
    backend = FakeBackend()
    list(run_stream(stream, backend, chunked(speech), realtime=False))
    partials = [r for r in backend.requests if r.kind == "partial" and r.offset_s > 4.0]
    finals = [r for r in backend.requests if r.kind == "final"]
    assert partials and all(len(r.audio) / 16000 <= 2.0 + 1.5 for r in partials)
    assert finals and len(finals[-1].audio) / 16000 >= 6.0
    assert finals[-1].prefix  # the committed words inside it are forced, not decoded again


def _finals_and_requests(
    audio: np.ndarray, lookahead_ms: int, eager_ms: int = 0, heard: list[float] | None = None,
    interval_ms: int = 500,
) -> tuple[list[Final], list[tuple[str, float]], float]:
    """Finals, (kind, audio time when requested) per decode, and the first SpeechEnded's time
    (``heard``: each final decode's audio end is appended)."""
    stream = RecognizerStream(StreamOptions(language="en", final_lookahead_ms=lookahead_ms, eager_ms=eager_ms,
                                            partial_interval_ms=interval_ms))
    backend = FakeBackend()
    asked: list[tuple[str, float]] = []
    decode = backend.decode

    def recording(request: DecodeRequest) -> DecodeResult:
        asked.append((request.kind, stream.audio_time_s))
        if heard is not None and request.kind == "final":
            heard.append(request.offset_s + len(request.audio) / 16000)
        return decode(request)

    backend.decode = recording  # type: ignore[method-assign]
    events = [e for e, _, _ in run_stream(stream, backend, chunked(audio), realtime=False)]
    ended = next(e for e in events if isinstance(e, SpeechEnded)).time_s
    return [e for e in events if isinstance(e, Final)], asked, ended


def test_the_final_is_decoded_in_the_pause_and_given_when_the_speech_ends(speech: np.ndarray) -> None:
    finals, asked, speech_end = _finals_and_requests(speech, 400)
    plain, plain_asked, _ = _finals_and_requests(speech, 0)
    assert [f.text for f in finals] == [f.text for f in plain] and finals[0].text
    early_at = [t for kind, t in asked if kind == "final"][-1]  # (pauses inside the clip may start others)
    (late_at,) = [t for kind, t in plain_asked if kind == "final"]
    # decoded once hangover_ms (200) of silence was in, not after end_of_speech_ms (600)
    assert early_at - speech_end < 0.3 and late_at - speech_end > 0.55


def test_speech_after_a_short_pause_drops_the_early_final(speech: np.ndarray) -> None:
    clip = speech[16000:-16000]
    pause = np.zeros(int(0.4 * 16000), np.float32)  # longer than the hangover, shorter than the end of speech
    joined = np.concatenate([np.zeros(16000, np.float32), clip, pause, clip, np.zeros(16000, np.float32)])
    finals, asked, _ = _finals_and_requests(joined, 400)
    assert len(finals) == 1, "the pause ended the utterance"
    assert sum(kind == "final" for kind, _ in asked) >= 2  # one in the pause (dropped), one at the end
    second_half = (16000 + len(clip) + len(pause)) / 16000
    assert finals[0].words[-1].end_s > second_half + 5.0  # the final heard the speech after the pause


def test_an_eager_final_in_the_pause_is_the_final_to_come(speech: np.ndarray) -> None:
    stream = RecognizerStream(StreamOptions(language="en", eager_ms=300, final_lookahead_ms=400))
    events = [e for e, _, _ in run_stream(stream, FakeBackend(), chunked(speech), realtime=False)]
    eager = [i for i, e in enumerate(events) if isinstance(e, EagerFinal)]
    final = next(i for i, e in enumerate(events) if isinstance(e, Final))
    ended = next(i for i, e in enumerate(events) if isinstance(e, SpeechEnded))
    assert eager and eager[-1] < ended < final
    assert events[eager[-1]].text == events[final].text  # type: ignore[attr-defined]


def test_with_an_eager_end_of_turn_the_pause_decode_starts_sooner_and_is_the_final(speech: np.ndarray) -> None:
    """Eager finals came 0.34-0.59 s after the speech when this decode waited for the whole
    200 ms hangover; it starts after half the eager silence (120 ms here) and is still the final."""
    heard: list[float] = []
    finals, asked, speech_end = _finals_and_requests(speech, 400, eager_ms=240, heard=heard)
    plain, _, _ = _finals_and_requests(speech, 400)
    assert [f.text for f in finals] == [f.text for f in plain] and finals[0].text
    last_at = [t for kind, t in asked if kind == "final"][-1]
    assert 0.1 <= last_at - speech_end < 0.17  # not 0.2 s
    assert 0.1 <= heard[-1] - speech_end < 0.17  # it heard the silence so far, not the hangover to come
    after = [kind for kind, t in asked if t > speech_end]
    assert after.count("final") == 1  # no second decode when the speech end was declared


@pytest.mark.parametrize("eager_ms", [0, 240])
def test_no_partial_holds_up_the_eager_decode_in_a_pause(speech: np.ndarray, eager_ms: int) -> None:
    """Partials due every 60 ms: without an eager end of turn they go on into the pause; with one,
    none starts from 60 ms of silence until the pause's final decode (at 120 ms)."""
    _, asked, speech_end = _finals_and_requests(speech, 400, eager_ms=eager_ms, interval_ms=60)
    final_at = next(t for kind, t in asked if kind == "final" and t > speech_end)
    late = [t for kind, t in asked if kind == "partial" and speech_end + 0.065 <= t < final_at]
    assert bool(late) == (eager_ms == 0), late


def test_without_partials_continuous_speech_is_still_decoded_so_the_lag_stays_bounded(data_dir: Path) -> None:
    """A finals-only stream (the client's choice, or degradation level 2) on speech with no pause:
    commit decodes every few seconds keep the undecoded audio bounded (it used to grow until the
    15 s window filled, and the server's ladder then dropped audio for as long as the speech went on)."""
    x, _ = read_audio(data_dir / "LJ001-0001.wav")
    audio = np.concatenate([x, x, x])  # ~29 s without a pause
    stream = RecognizerStream(StreamOptions(partials=False, max_utterance_s=60.0))
    backend, most_pending, shown = FakeBackend(), 0.0, []
    for start in range(0, len(audio), 8000):
        stream.push_audio(audio[start : start + 8000])
        most_pending = max(most_pending, stream.pending_audio_s)
        request = stream.next_request()
        if request is not None:
            shown += stream.apply(request, backend.decode(request))
    assert most_pending < 3.6
    assert len([r for r in backend.requests if r.kind == "partial"]) >= 7
    assert not [e for e in shown if isinstance(e, Partial)]


def test_a_length_cut_after_a_committed_word_is_final_at_once_without_a_decode(data_dir: Path) -> None:
    """Unpaused speech cut by ``max_utterance_s`` right after its last committed word: the final is
    the committed words, with no decode (it would add nothing and hold up the next utterance), and
    the words after the cut come once, from the next utterance."""
    x, _ = read_audio(data_dir / "LJ001-0001.wav")
    audio = np.concatenate([x, x, x])  # ~29 s without a pause
    stream = RecognizerStream(StreamOptions(max_utterance_s=8.0))
    backend = FakeBackend()
    events = [e for e, _, _ in run_stream(stream, backend, chunked(audio), realtime=False)]
    finals = [e for e in events if isinstance(e, Final)]
    cuts = [f for f in finals if f.reason == "max_length"]
    assert len(cuts) >= 2
    ends = {e.utterance: e.time_s for e in events if isinstance(e, SpeechEnded)}
    decoded_at_cut = [r for r in backend.requests if r.kind == "final" and r.utterance in {f.utterance for f in cuts}
                      and r.offset_s + len(r.audio) / 16000 >= ends[r.utterance] - 0.01]  # (not the pauses' early ones)
    assert not decoded_at_cut
    words = [w.word for f in finals for w in f.words]
    assert len(words) == len(set(words))  # the fake backend names each word by its time: none twice
    said = {f"w{k}" for k in range(int(len(audio) / 16000 / 0.4) - 2)}
    assert len(said - set(words)) <= 2  # and none lost at the cuts
