"""The agents the server can run (``agent.kind``): echo, an OpenAI-compatible LLM, a Python callable."""
