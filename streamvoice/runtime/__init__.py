"""Layer 4: the session (typed events in, outbox out), its pipelines, router and barge-in policy,
and the WebSocket + msgpack transport (per-connection task group, lanes, flow control)."""
