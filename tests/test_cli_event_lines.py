"""`transcribe --json` prints one line shape whether the events come in process or from a server."""

from streamvoice.asr import events as ev
from streamvoice.cli.remote import wire_event_json
from streamvoice.cli.transcribe_cmd import event_json
from streamvoice.protocol import Final, Partial, Speech, Word


def test_in_process_and_server_finals_print_the_same_line() -> None:
    local = ev.Final(utterance=2, text="hello world", words=(ev.Word("hello", 0.5, 0.9, 0.98765),),
                     language="en", language_probability=0.99, start_s=0.5, end_s=0.9, reason="silence")
    wire = Final(utterance=2, text="hello world", words=[Word(word="hello", start_s=0.5, end_s=0.9,
                 probability=0.98765)], language="en", language_probability=0.99, start_s=0.5, end_s=0.9)
    a, b = event_json(local, 1.23456, 2.0), wire_event_json(wire, 1.23456, 2.0)
    assert a.pop("reason") == "silence"
    assert a == b
    assert b["type"] == "final" and b["words"] == [{"word": "hello", "start": 0.5, "end": 0.9, "probability": 0.988}]
    assert b["audio_s"] == 1.235


def test_partials_and_speech_events() -> None:
    local = ev.Partial(utterance=0, revision=3, text="a b", stable_text="a", words=())
    wire = Partial(utterance=0, revision=3, text="a b", stable_text="a")
    assert event_json(local, 1.0, 1.0) == wire_event_json(wire, 1.0, 1.0)
    start = wire_event_json(Speech(event="start", utterance=0, time_s=0.25), 0.5, 0.6)
    assert start == event_json(ev.SpeechStarted(0, 0.25), 0.5, 0.6)
    assert start["type"] == "speech_start" and start["time"] == 0.25 and "text" not in start
