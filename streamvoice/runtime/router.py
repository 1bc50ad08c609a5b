"""Inbound router: each typed event goes straight to the pipeline that handles it.

audio -> ASR pipeline, text, cancel and flow -> TTS pipeline, configure -> both. Session
lifecycle events (start, bye, closed) are not the pipelines' business: :func:`route` returns False
for them and the session handles them. Stateless; never blocks.
"""

from __future__ import annotations

from streamvoice.runtime.asr_pipeline import AsrPipeline
from streamvoice.runtime.events import (
    AudioEnded,
    AudioSamples,
    CancelRequested,
    FlowReported,
    Inbound,
    OptionsChanged,
    TextReceived,
)
from streamvoice.runtime.tts_pipeline import TtsPipeline


def route(event: Inbound, asr: AsrPipeline | None, tts: TtsPipeline | None) -> bool:
    """Deliver a pipeline event (dropped when its pipeline is absent); False for lifecycle events."""
    if isinstance(event, AudioSamples):  # the hot path first
        if asr is not None:
            asr.push(event.samples, event.sample_rate, event.seq)
    elif isinstance(event, FlowReported):
        if tts is not None:
            tts.flow(event.turn, event.played_ms, event.buffered_ms)
    elif isinstance(event, TextReceived):
        if tts is not None:
            tts.text(event.turn, event.text, event.final)
    elif isinstance(event, CancelRequested):
        if tts is not None:
            tts.cancel(event.turn)
    elif isinstance(event, AudioEnded):
        if asr is not None:
            asr.end_audio()
    elif isinstance(event, OptionsChanged):
        if asr is not None:
            asr.configure(event.asr)
        if tts is not None:
            tts.configure(event.tts)
    else:
        return False
    return True
