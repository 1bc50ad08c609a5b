"""Drives a session's :class:`~streamvoice.runtime.agent.Agent`: finals in, spoken replies out.

Each non-empty ``final`` is a user turn. The reply's text deltas go into a TTS turn of the
server's own (its id follows every turn the session has seen) as they arrive, so the first
sentence is synthesized while the agent is still writing the next. A new user turn while a reply
is still being written or spoken cancels that reply (the user moved on). An agent failure
(:class:`AgentFailed`, or any exception) becomes a non-fatal ``error`` ``agent_failed`` and ends
the turn with whatever was already said: the client never waits on a reply that will not come.
The turn's ``tts_done`` tells the agent what was heard.

Eager end of turn: a reply to an eager ``final`` is written and synthesized at once but held
(none of its audio is sent) until the end of speech is sure (``speech`` ``end`` of that
utterance); the utterance's ``final`` then needs no second reply. If the user goes on speaking
(``turn_resumed``) the held reply is cancelled before any of it was heard, and the agent is told
to forget the turn (:attr:`Heard.withdrawn`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field

from streamvoice.protocol.errors import ErrorCode
from streamvoice.protocol.messages import ErrorMessage, TtsDone
from streamvoice.runtime.agent import Agent, AgentFailed, Heard, UserTurn
from streamvoice.runtime.outbox import Outbox
from streamvoice.runtime.tts_pipeline import TtsPipeline

log = logging.getLogger(__name__)

MAX_WAITING_TURNS = 4  # user turns queued behind a reply being set up (older ones are dropped)


@dataclass(eq=False)
class _Reply:
    turn: int
    user: UserTurn
    parts: list[str] = field(default_factory=list)
    opened: bool = False  # a text delta reached the TTS pipeline (the turn exists there)
    done: bool = False  # tts_done seen: the agent has been told what was heard
    withdrawn: bool = False  # the user went on speaking after the eager final it answers
    task: asyncio.Task[None] | None = None


class AgentLoop:
    """One session's agent driver (see module docstring)."""

    def __init__(self, agent: Agent, tts: TtsPipeline, outbox: Outbox, session_id: str = "") -> None:
        self.agent = agent
        self._tts = tts
        self._out = outbox
        self._session_id = session_id
        self._waiting: deque[UserTurn] = deque(maxlen=MAX_WAITING_TURNS)
        self._replies: dict[int, _Reply] = {}  # turn id -> reply not yet reported to the agent
        self._current: _Reply | None = None
        self._eagerly_answered: deque[int] = deque(maxlen=16)  # utterances whose eager final got the reply
        self._wake = asyncio.Event()
        self._closing = False

    # -- inputs (never block) ------------------------------------------------------------------
    def on_final(self, utterance: int, text: str, eager: bool = False) -> None:
        """A ``final`` went out: a user turn, unless it heard no words or was answered eagerly."""
        if self._closing:
            return
        if not eager and utterance in self._eagerly_answered:  # the eager final held: its reply stands
            self.release(utterance)
            return
        if not text.strip():
            return
        self.interrupt()
        self._waiting.append(UserTurn(utterance, text.strip(), eager=eager))
        if eager:
            self._eagerly_answered.append(utterance)
        self._wake.set()

    def on_resumed(self, utterance: int) -> None:
        """The user went on speaking: withdraw the reply to that utterance's eager final."""
        self._waiting = deque((t for t in self._waiting if t.utterance != utterance), maxlen=MAX_WAITING_TURNS)
        if utterance in self._eagerly_answered:
            self._eagerly_answered.remove(utterance)
        reply = self._reply_to(utterance)
        if reply is None:
            return
        reply.withdrawn = True
        self.interrupt()

    def release(self, utterance: int) -> None:
        """The end of speech is sure: the reply to that utterance may be heard."""
        reply = self._reply_to(utterance)
        if reply is not None:
            self._tts.release(reply.turn)

    def _reply_to(self, utterance: int) -> _Reply | None:
        """The live reply to an eager final of ``utterance``, if any."""
        reply = self._current
        if reply is None or reply.done or reply.withdrawn or not reply.user.eager:
            return None
        return reply if reply.user.utterance == utterance else None

    def interrupt(self) -> None:
        """Stop the reply being written or spoken (the user spoke again)."""
        reply = self._current
        if reply is None or reply.done:
            return
        if reply.opened:
            self._tts.cancel(reply.turn)  # its tts_done (cancelled) reports what was heard
        if reply.task is not None and not reply.task.done():
            reply.task.cancel()

    def on_tts_done(self, done: TtsDone) -> None:
        """A turn's audio ended; if it was a reply, the agent learns what the user heard."""
        reply = self._replies.pop(done.turn, None)
        if reply is None:
            return
        if reply.task is not None and not reply.task.done():
            reply.task.cancel()  # cancelled while the agent was still writing
        self._report(reply, done)

    def close(self) -> None:
        """Session ending: stop after the current reply is cancelled."""
        self._closing = True
        self.interrupt()
        self._wake.set()

    # -- task ----------------------------------------------------------------------------------
    async def run(self) -> None:
        """Answer user turns one at a time until :meth:`close` (or cancellation)."""
        try:
            while not self._closing:
                if not self._waiting:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                user = self._waiting.popleft()
                reply = _Reply(self._tts.next_turn_id(), user)
                if user.eager:
                    self._tts.hold(reply.turn)
                self._replies[reply.turn] = reply
                self._current = reply
                reply.task = asyncio.create_task(self._write(reply), name=f"agent-{self._session_id}-{reply.turn}")
                await asyncio.gather(reply.task, return_exceptions=True)
        finally:
            if self._current is not None and self._current.task is not None:
                self._current.task.cancel()
            await self.agent.aclose()

    async def _write(self, reply: _Reply) -> None:
        try:
            async for delta in self.agent.reply(reply.user):
                if reply.done:
                    return
                if delta:
                    reply.parts.append(delta)
                    reply.opened = True
                    self._tts.text(reply.turn, delta, False)
        except asyncio.CancelledError:
            if not reply.opened:  # nothing reached the TTS: no tts_done will come
                self._replies.pop(reply.turn, None)
                self._report(reply, None)
            raise
        except Exception as exc:
            why = str(exc) if isinstance(exc, AgentFailed) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, AgentFailed):
                log.exception("session %s: agent failed", self._session_id)
            self._out.put(ErrorMessage(code=ErrorCode.AGENT_FAILED.value, fatal=False,
                                       message=f"the agent could not answer utterance {reply.user.utterance}: {why}"))
        if not reply.done:
            reply.opened = True
            self._tts.text(reply.turn, "", True)  # speak what was said so far; tts_done follows

    def _report(self, reply: _Reply, done: TtsDone | None) -> None:
        if reply.done:
            return
        reply.done = True
        self._tts.release(reply.turn)  # forget a hold
        text = "".join(reply.parts)
        complete = done is not None and done.status == "complete"
        heard = text.strip() if complete else (done.heard_text or "" if done is not None else "")
        try:
            self.agent.heard(reply.user, Heard(reply_text=text, heard_text="" if reply.withdrawn else heard,
                                               complete=complete, withdrawn=reply.withdrawn))
        except Exception:
            log.exception("session %s: agent.heard failed", self._session_id)
