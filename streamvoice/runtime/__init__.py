"""Layer 4: per-connection asyncio runtime (task group, lanes, pipelines, router)."""
