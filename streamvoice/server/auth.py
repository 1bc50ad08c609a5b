"""Token and Origin checks. Tokens are compared in constant time and never logged."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit


def token_ok(expected: str | None, presented: str | None) -> bool:
    """True when no token is required, or ``presented`` equals it (constant-time compare)."""
    if expected is None:
        return True
    if presented is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def origin_ok(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """Browsers send Origin; non-browser clients do not (allowed). With no allow-list, only the
    server's own host (the caption page it serves) is allowed."""
    if origin is None:
        return True
    if allowed:
        return origin.rstrip("/") in {a.rstrip("/") for a in allowed} or "*" in allowed
    parts = urlsplit(origin)
    return bool(host) and parts.netloc.lower() == (host or "").lower()
