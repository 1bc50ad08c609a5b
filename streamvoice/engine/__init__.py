"""Layer 3: the one boundary between worker threads (models) and asyncio (sessions)."""
