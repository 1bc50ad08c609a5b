"""Options that change mid-stream take effect from the next utterance, on one time line (pure)."""

from __future__ import annotations

import numpy as np

from streamvoice.asr import events as ev
from streamvoice.asr.options import StreamOptions
from streamvoice.asr.reconfigure import ReconfigurableStream
from tests.server.test_server_fake_engine import speechlike
from tests.server.toy_backends import ToyAsr

RATE = 16000


def drain(stream: ReconfigurableStream, backend: ToyAsr, models: list[str]) -> list[ev.AsrEvent]:
    """Run every due decode at once (instant compute), noting which model each was meant for."""
    out: list[ev.AsrEvent] = []
    while (request := stream.next_request()) is not None:
        models.append(stream.model_of(request))
        out += stream.apply(request, backend.decode(request))
    return out


def test_staged_options_wait_for_the_open_utterance_then_apply() -> None:
    backend, models = ToyAsr("toy"), []  # type: ignore[var-annotated]
    stream = ReconfigurableStream(StreamOptions(language="en"), "s", model="a")
    events = stream.push_audio(speechlike(1.0)) + drain(stream, backend, models)
    assert any(isinstance(e, ev.SpeechStarted) for e in events)
    stream.reconfigure(StreamOptions(language="es", task="translate"), model="b")
    assert stream.options.language == "en" and stream.staged is not None  # utterance 1 is open
    events += stream.push_audio(speechlike(1.0)) + drain(stream, backend, models)
    events += stream.push_audio(np.zeros(RATE, np.float32)) + drain(stream, backend, models)
    assert stream.options.language == "es" and stream.options.task == "translate" and stream.staged is None
    first_models = list(models)
    events += stream.push_audio(np.concatenate([speechlike(1.5), np.zeros(RATE, np.float32)]))
    events += drain(stream, backend, models)
    finals = [e for e in events if isinstance(e, ev.Final)]
    starts = [e for e in events if isinstance(e, ev.SpeechStarted)]
    assert [f.utterance for f in finals] == [0, 1] and [s.utterance for s in starts] == [0, 1]
    assert finals[0].language == "en" and finals[1].language == "es"
    assert set(first_models) == {"a"} and set(models[len(first_models):]) == {"b"}
    assert starts[1].time_s > finals[0].end_s >= 1.5  # session time continues across the switch
    assert all(w.start_s >= starts[1].time_s - 0.3 for w in finals[1].words)


def test_unchanged_options_do_not_switch_and_close_finishes() -> None:
    stream = ReconfigurableStream(StreamOptions(), "s")
    stream.reconfigure(StreamOptions())
    assert stream.staged is None
    stream.push_audio(speechlike(1.0))
    stream.close()
    backend, models = ToyAsr("toy"), []  # type: ignore[var-annotated]
    finals = [e for e in drain(stream, backend, models) if isinstance(e, ev.Final)]
    assert len(finals) == 1 and stream.finished
