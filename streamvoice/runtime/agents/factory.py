"""``agent.kind`` -> a factory making one agent per session (None: no server-side agent).

Built once per configuration (the callable imported, the system prompt read, once), so a bad
``--agent`` or an unreadable prompt fails with a clear message (``serve`` calls this before it listens).
"""

from __future__ import annotations

import functools

from streamvoice.config import AgentConfig
from streamvoice.runtime.agent import AgentFactory


@functools.cache
def agent_factory(config: AgentConfig) -> AgentFactory | None:
    kind = config.kind.strip()
    if kind in ("", "none"):
        return None
    if kind == "echo":
        from streamvoice.runtime.agents.echo import EchoAgent

        return EchoAgent
    if kind == "llm":
        from streamvoice.runtime.agents.llm import LlmAgent, check_settings

        system = None
        if config.system_prompt_file is not None:
            try:
                system = config.system_prompt_file.read_text(encoding="utf-8").strip() or None
            except OSError as exc:
                raise ValueError(f"agent.system_prompt_file: cannot read {config.system_prompt_file}: {exc}") from None
        check_settings(config)
        return functools.partial(LlmAgent, config, system)
    from streamvoice.runtime.agents.callable import CallableAgent, load_callable

    function = load_callable(kind)
    return functools.partial(CallableAgent, function)
