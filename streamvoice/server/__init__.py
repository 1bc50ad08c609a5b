"""Layer 5: the WebSocket + HTTP server face."""
