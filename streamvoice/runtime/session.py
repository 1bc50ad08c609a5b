"""One voice session, whatever carries it: typed events in, typed events out through an outbox.

The session owns the two pipelines, the barge-in policy and their tasks. A transport feeds it
:data:`~streamvoice.runtime.events.Inbound` events through :meth:`Session.handle` and gives it an
:class:`~streamvoice.runtime.outbox.Outbox`; the WebSocket + msgpack adapter
(:mod:`streamvoice.runtime.wire`) is one transport, tests feed events by hand, and a WebRTC
adapter (audio track in and out, data channel for the rest) would be another. Nothing here sees
a byte of a wire format.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from streamvoice.asr.options import StreamOptions
from streamvoice.config import Config
from streamvoice.engine.engine import SpeechEngine
from streamvoice.protocol.messages import Final, TtsAudio, TtsDone, TurnResumed
from streamvoice.runtime.agent_loop import AgentLoop
from streamvoice.runtime.agents.factory import agent_factory
from streamvoice.runtime.asr_pipeline import AsrPipeline
from streamvoice.runtime.barge_in import BargeIn
from streamvoice.runtime.credits import CreditPacer
from streamvoice.runtime.events import ClientBye, FlowReported, Inbound, SessionClosed, SessionStarted
from streamvoice.runtime.observe import NullObserver, Observer
from streamvoice.runtime.outbox import Outbox
from streamvoice.runtime.router import route
from streamvoice.runtime.self_hearing import SelfHearing
from streamvoice.runtime.tts_pipeline import TtsPipeline

log = logging.getLogger(__name__)


class Session:
    """Pipelines of one session; :meth:`run` serves them until they end or are cancelled."""

    def __init__(
        self,
        session_id: str,
        engine: SpeechEngine,
        config: Config,
        outbox: Outbox,
        *,
        on_failure: Callable[[str], None] = lambda what: None,
        observer: Observer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.id = session_id
        self.engine = engine
        self.config = config
        self.outbox = outbox
        self._on_failure = on_failure  # a pipeline failed: the transport ends the session (internal error)
        self._obs = observer or NullObserver()
        self._clock = clock
        self.asr: AsrPipeline | None = None
        self.tts: TtsPipeline | None = None
        self.barge_in = BargeIn(config.server.vad_barge_in, self._stop_speaking)
        self.agent: AgentLoop | None = None  # config.agent.kind: who answers finals (none: the client)
        self.hearing: SelfHearing | None = None  # what it plays, so as not to hear itself (server.self_hearing)
        self._started = asyncio.Event()
        self._closed = False
        self._asr_task: asyncio.Task[None] | None = None

    # -- inbound ------------------------------------------------------------------------------------
    def handle(self, event: Inbound) -> None:
        """One inbound event (never blocks): pipeline events are routed, lifecycle ones handled here."""
        if route(event, self.asr, self.tts):
            if isinstance(event, FlowReported) and self.hearing is not None and self.asr is not None:
                self.hearing.played(event.turn, event.played_ms, event.buffered_ms, self.asr.audio_s)
            return
        if isinstance(event, SessionStarted):
            self._start(event)
        elif isinstance(event, ClientBye):
            self.stop()
        elif isinstance(event, SessionClosed):
            self._closed = True
            self._started.set()  # run() returns if it was still waiting

    def _start(self, event: SessionStarted) -> None:
        cfg = self.config
        make_agent = agent_factory(cfg.agent)
        srv = cfg.server
        if srv.self_hearing or (srv.self_hearing is None and (make_agent is not None or srv.vad_barge_in)):
            self.hearing = SelfHearing(tail_s=srv.self_hearing_tail_s, delay_s=srv.self_hearing_delay_s,
                                       min_user_words=srv.self_hearing_min_user_words)
        self.tts = TtsPipeline(
            self.engine, self.id, event.tts, CreditPacer(cfg.server.max_audio_lead_ms), self.outbox,
            frame_ms=cfg.tts.frame_ms, observer=self._obs, clock=self._clock, on_done=self._tts_done,
            on_audio=self._tts_audio,
        )
        if make_agent is not None:
            self.agent = AgentLoop(make_agent(), self.tts, self.outbox, self.id)
        self.asr = AsrPipeline(
            self.engine, self.id, StreamOptions.from_config(cfg.asr), event.asr, self.outbox,
            max_lag_ms=cfg.server.max_asr_lag_ms, on_speech_start=self.barge_in.speech_started,
            on_final=self._final, on_resumed=self._resumed, on_speech_end=self._speech_end,
            observer=self._obs, clock=self._clock, self_hearing=self.hearing,
        )
        self._started.set()
        log.info("session %s: ready (v%d)", self.id, event.version)

    def _stop_speaking(self) -> None:
        if self.agent is not None:
            self.agent.interrupt()
        if self.tts is not None:
            self.tts.cancel(None)

    def _final(self, final: Final) -> None:
        if self.agent is not None:
            self.agent.on_final(final.utterance, final.text, eager=final.eager)

    def _resumed(self, resumed: TurnResumed) -> None:
        if self.agent is not None:
            self.agent.on_resumed(resumed.utterance)

    def _speech_end(self, utterance: int) -> None:
        if self.agent is not None:
            self.agent.release(utterance)

    def _tts_audio(self, audio: TtsAudio, ms: float) -> None:
        if self.hearing is not None and self.asr is not None:
            words = [(w.word, float(w.start_ms), float(w.end_ms)) for w in audio.words or ()]
            self.hearing.audio_sent(audio.turn, audio.offset_ms, ms, words, self.asr.audio_s)

    def _tts_done(self, done: TtsDone) -> None:
        if self.hearing is not None:
            self.hearing.turn_done(done.turn, (done.played_ms or 0) if done.status == "cancelled" else None)
        if self.agent is not None:
            self.agent.on_tts_done(done)

    # -- lifecycle ----------------------------------------------------------------------------------
    async def run(self) -> None:
        """Wait for the start, then run both pipelines until they end (or the task is cancelled)."""
        await self._started.wait()
        if self._closed or self.asr is None or self.tts is None:
            return
        async with asyncio.TaskGroup() as tg:
            self._asr_task = tg.create_task(self._guard(self.asr.run(), "asr"), name=f"asr-{self.id}")
            tg.create_task(self._guard(self.tts.run(), "tts"), name=f"tts-{self.id}")
            if self.agent is not None:
                tg.create_task(self._guard(self.agent.run(), "agent"), name=f"agent-{self.id}")

    async def finish(self) -> None:
        """Server stopping: flush the finals of open utterances, then end every turn (cancelled)."""
        if self.asr is not None:
            await self.asr.finish()
            if self._asr_task is not None:
                await asyncio.gather(self._asr_task, return_exceptions=True)
        self.stop()

    def stop(self) -> None:
        """End every turn now (fatal close, bye): ``tts_done`` cancelled for each, then the TTS task ends."""
        if self.agent is not None:
            self.agent.close()
        if self.tts is not None:
            self.tts.shutdown()

    async def _guard(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        """A pipeline failing is this session's internal error, never anyone else's."""
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except BaseException:
            log.exception("session %s: %s pipeline failed", self.id, what)
            self._obs.error("internal")
            self._on_failure(what)
