"""The program's one reading of the real clock.

Everything that asks "what time is it" (the web routes, the services' `utcnow`, the
program's today, the portal links' and sign-ins' ages) calls `now()` here at the moment
it asks, so that a test can hold the whole program at one known instant by replacing
this function (`monkeypatch.setattr(matchdesk.clock, "now", ...)`)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The present instant, aware, in UTC."""
    return datetime.now(UTC)
