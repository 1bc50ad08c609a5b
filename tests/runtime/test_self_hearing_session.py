"""No self-hearing inside a session (fake engine): the reply's own words coming back are withheld
and do not barge in; other words over the reply do; outside replies nothing waits."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from streamvoice.engine.fake import FakeEngine
from streamvoice.protocol.messages import Final, Partial, Speech, TtsAudio, TtsDone
from streamvoice.runtime.events import AudioSamples, TextReceived
from tests.runtime.test_pipelines import RATE, Harness, started, until, utterance

# The fake TTS spaces words evenly over 66 ms per character ("hello " ~ 0.4 s); the fake ASR hears
# its words every 0.4 s of input: with the same words, what it hears is the reply, in time.
REPLY = "hello world hello world hello world hello world hello world."


def silence(seconds: float) -> AudioSamples:
    return AudioSamples(np.zeros(int(seconds * RATE), np.float32), RATE)


async def play_reply(h: Harness) -> None:
    h.session.handle(started())
    h.session.handle(TextReceived(1, REPLY, True))
    await until(lambda: h.out.of(TtsAudio))


@pytest.mark.parametrize("self_hearing", [None, False])
async def test_the_reply_heard_back_is_withheld_and_does_not_barge_in(self_hearing: bool | None) -> None:
    engine = FakeEngine(words=("hello", "world"), ms_per_char=66.0)
    async with Harness(engine, vad_barge_in=True, self_hearing=self_hearing) as h:
        await play_reply(h)
        h.session.handle(utterance(1.6))  # the microphone hears the reply from its start
        await until(lambda: h.out.of(TtsDone), timeout=10)
        asr = h.session.asr
        assert asr is not None
        if self_hearing is False:  # without it the reply hears itself: a final, and it stops itself
            await until(lambda: h.out.of(Final))
            await asyncio.sleep(0.2)  # let the cancelled turn's task end before the session is stopped
            assert h.out.of(TtsDone)[0].status == "cancelled" and h.session.barge_in.barge_ins == 1
            return
        await until(lambda: asr.echo_dropped == 1)
        assert not h.out.of(Speech) and not h.out.of(Partial) and not h.out.of(Final)
        assert h.out.of(TtsDone)[0].status == "complete" and h.session.barge_in.barge_ins == 0
        # later, outside the reply and its tail, the user is heard at once, as utterance 1
        h.session.handle(silence(6.0))
        h.session.handle(utterance(1.6))
        await until(lambda: h.out.of(Final))
    assert [(s.event, s.utterance) for s in h.out.of(Speech)] == [("start", 1), ("end", 1)]
    assert h.out.of(Final)[0].utterance == 1


async def test_other_words_over_the_reply_barge_in_and_are_transcribed() -> None:
    engine = FakeEngine(words=("please", "stop", "now"), ms_per_char=66.0)
    async with Harness(engine, vad_barge_in=True) as h:
        await play_reply(h)
        h.session.handle(utterance(1.6))
        await until(lambda: h.out.of(Final) and h.out.of(TtsDone), timeout=10)
    kinds = [type(m).__name__ for m in h.out.messages if not isinstance(m, TtsAudio)]
    assert kinds.index("Speech") < kinds.index("Final")  # speech start first, as always
    assert h.out.of(Final)[0].text.startswith("please stop now") and h.out.of(Final)[0].utterance == 1
    assert h.out.of(TtsDone)[0].status == "cancelled" and h.session.barge_in.barge_ins == 1
    partials = h.out.of(Partial)
    assert [p.revision for p in partials] == list(range(len(partials)))  # counted from the first sent


async def test_speech_start_waits_for_words_only_while_a_reply_plays() -> None:
    engine = FakeEngine(words=("please", "stop"), ms_per_char=66.0, asr_delay_s=0.3)
    async with Harness(engine, vad_barge_in=True) as h:
        h.session.handle(started())
        h.session.handle(utterance(1.0))  # no reply: the start goes out with the audio, before any decode
        assert h.out.of(Speech)
        await until(lambda: h.out.of(Final))
        h.out.messages.clear()
        h.session.handle(TextReceived(1, REPLY, True))
        await until(lambda: h.out.of(TtsAudio))
        h.session.handle(utterance(1.0))  # over the reply: the start waits for the first words
        assert not h.out.of(Speech)
        await until(lambda: h.out.of(Speech), timeout=10)
        assert h.out.of(Partial) or h.out.of(Final)  # released with the hypothesis that decided it
